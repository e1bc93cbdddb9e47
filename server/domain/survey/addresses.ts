// Email addresses as the platform accepts them: in a sample frame, as the sender or reply address
// of a survey's mail, as the address a test mail goes to. One rule everywhere, so that what
// `survey create` or `survey import` accepts is what the sender can put in a header.

import { domainToASCII } from 'node:url';

// The local part as RFC 5322's dot-atom (no leading, trailing or double dot), with letters, marks
// and digits of any script besides ASCII's (RFC 6531); never a space, a control, a format character
// (a zero-width space, a right-to-left override) or anything else invisible.
const ATEXT = "[\\p{L}\\p{M}\\p{N}!#$%&'*+/=?^_`{|}~-]";
const LOCAL = new RegExp(`^${ATEXT}+(\\.${ATEXT}+)*$`, 'u');
// Domain labels: letters, marks and digits (an IDN is fine), hyphens inside; a top-level domain of
// letters, or an IDN's ASCII form (xn--).
const LABEL = /^[\p{L}\p{M}\p{N}]([\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?$/u;
const TOP_LEVEL = /^(\p{L}{2,63}|xn--[a-z0-9-]{1,59})$/u;

/** A bare address (local@domain.tld); not "Name <address>". */
export function isEmailAddress(value: string): boolean {
  if (value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0) return false;
  const local = value.slice(0, at);
  const labels = value.slice(at + 1).split('.');
  return (
    Buffer.byteLength(local) <= 64 &&
    LOCAL.test(local) &&
    labels.length >= 2 &&
    labels.every((l) => LABEL.test(l)) &&
    TOP_LEVEL.test(labels.at(-1)!)
  );
}

/**
 * The one spelling of an address that the platform stores and compares, or undefined when it is
 * not a valid address: the local part in Unicode NFC and lower case, the domain in lower case and
 * in its ASCII form (IDNA: "bühl.de" is "xn--bhl-hoa.de"). So that one mailbox
 * never stands in a frame twice under two spellings, and mail to an accented domain needs no
 * SMTPUTF8.
 */
export function normalizeEmail(text: string): string | undefined {
  const trimmed = text.trim().normalize('NFC');
  const at = trimmed.lastIndexOf('@');
  if (at <= 0 || !isEmailAddress(trimmed)) return undefined;
  const domain = domainToASCII(trimmed.slice(at + 1).toLowerCase());
  const address = `${trimmed.slice(0, at).toLowerCase()}@${domain}`;
  return domain !== '' && isEmailAddress(address) ? address : undefined;
}

/** Splits "Name <address>" or a bare address (quotes around the name are dropped). */
export function parseAddress(text: string): { name: string; address: string } {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(text);
  return m ? { name: m[1]!.replace(/^"(.*)"$/, '$1'), address: m[2]! } : { name: '', address: text.trim() };
}

/** Whether the text is "Name <address>" or a bare address, with a valid address and no stray brackets. */
export function isMailbox(text: string): boolean {
  const { name, address } = parseAddress(text);
  return isEmailAddress(address) && !/[<>\r\n]/.test(name);
}
