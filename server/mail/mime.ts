// Composing the RFC 5322 / MIME message of a mailing: multipart/alternative with a plain text
// and an HTML part in UTF-8, each as it is or quoted-printable (encodeBody). Written here rather
// than with nodemailer's composer because mailings are thousands of mails from one template, and
// this costs a fraction of the time (see scripts/bench/fieldwork.ts); headers are validated
// before they get here.

import { randomBytes } from 'node:crypto';
import { domainToASCII } from 'node:url';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp/index.js';
import { parseAddress } from '../domain/survey/addresses.ts';
import type { RenderedMail } from './render.ts';

/**
 * Plain ASCII that folding can keep within 78 characters a line: no word longer than fits on a
 * folded line of its own.
 */
function isPlainHeaderText(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value) && !/[^ ]{76}/.test(value);
}

/** RFC 2047 encoded-words for a header value that is not plain ASCII (or has overlong words). */
export function encodeHeaderWords(value: string): string {
  if (isPlainHeaderText(value)) return value;
  const words: string[] = [];
  let chunk = '';
  for (const ch of value) {
    // Keep each encoded-word within 75 characters: at most 45 bytes of UTF-8 before base64.
    if (Buffer.byteLength(chunk + ch) > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w).toString('base64')}?=`).join('\r\n ');
}

/** "Name" <address>, with the name quoted or encoded as needed. */
export function formatAddress(name: string, address: string): string {
  if (!name) return `<${address}>`;
  const display = isPlainHeaderText(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : encodeHeaderWords(name);
  return `${display} <${address}>`;
}

/**
 * RFC 5322 folding: a header line longer than 78 characters is broken before white space (a
 * long name, a long title in the subject). A line may not exceed 998 characters at all, and no
 * folded line may consist of white space alone.
 */
export function foldHeader(header: string): string {
  return header
    .split('\r\n')
    .map((line) => {
      if (line.length <= 78) return line;
      const lines: string[] = [];
      let current = '';
      for (const word of line.split(/(?= )/)) {
        if (current.length + word.length > 78 && current.trim() !== '' && word.trim() !== '') {
          lines.push(current);
          current = word;
        } else current += word;
      }
      lines.push(current);
      return lines.join('\r\n');
    })
    .join('\r\n');
}

/**
 * The address with an internationalised domain in its ASCII form (münchen.de: xn--mnchen-3ya.de),
 * which every mail server accepts, in the envelope and in the header alike.
 */
export function asciiDomain(address: string): string {
  const at = address.lastIndexOf('@');
  const domain = address.slice(at + 1);
  if (at < 0 || /^[\x20-\x7e]*$/.test(domain)) return address;
  return `${address.slice(0, at)}@${domainToASCII(domain) || domain}`;
}

// Plain ASCII in lines of at most 998 octets may go as it is (7bit, RFC 5322), which is what
// mail of the templates' own text is; anything else (a name with an accent, a line that is too
// long) goes as quoted-printable, which keeps Dutch text readable and small. Not base64 for text
// that is mostly ASCII: spam filters score that as text disguised by its encoding, and it makes
// every mail a third larger for both ends of the connection to handle.
const SEVEN_BIT = /^[\t\r\n\x20-\x7e]*$/;

/** Whether any line (CRLF-separated) is longer than SMTP allows; linear, unlike a regex would be. */
function hasOverlongLine(crlf: string): boolean {
  for (let start = 0; start < crlf.length; ) {
    const end = crlf.indexOf('\r\n', start);
    if ((end < 0 ? crlf.length : end) - start > 998) return true;
    if (end < 0) break;
    start = end + 2;
  }
  return false;
}

/** A body part's transfer encoding and its encoded text, with CRLF line ends. */
export function encodeBody(text: string): { encoding: '7bit' | 'quoted-printable'; body: string } {
  const crlf = text.replace(/\r?\n|\r/g, '\r\n');
  if (SEVEN_BIT.test(crlf) && !hasOverlongLine(crlf)) return { encoding: '7bit', body: crlf };
  return { encoding: 'quoted-printable', body: qpWrap(qpEncode(crlf), 76) };
}

// Boundaries only need to be unique and absent from the content: "=_" cannot occur in
// quoted-printable ("=" is written =3D), and 7bit text cannot guess the random prefix.
const boundaryPrefix = randomBytes(8).toString('hex');
let boundaryCounter = 0;

export interface ComposedMessage {
  envelope: { from: string; to: string[] };
  raw: Buffer;
}

export function composeMessage(mail: RenderedMail, date: Date): ComposedMessage {
  const from = parseAddress(mail.from);
  const to = asciiDomain(mail.to.address);
  const boundary = `----=_enquete_${boundaryPrefix}_${(boundaryCounter++).toString(36)}`;
  const headers = [
    `From: ${formatAddress(from.name, from.address)}`,
    `To: ${formatAddress(mail.to.name, to)}`,
    ...(mail.replyTo ? [`Reply-To: ${(({ name, address }) => formatAddress(name, address))(parseAddress(mail.replyTo))}`] : []),
    `Subject: ${encodeHeaderWords(mail.subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${mail.messageId}`,
    ...Object.entries(mail.headers).map(([k, v]) => `${k}: ${v}`),
    'MIME-Version: 1.0',
    `Content-Type: multipart/alternative; boundary="${boundary}"`,
  ];
  const part = (type: string, text: string) => {
    const { encoding, body } = encodeBody(text);
    return `--${boundary}\r\nContent-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${body}\r\n`;
  };
  const raw = `${headers.map(foldHeader).join('\r\n')}\r\n\r\n${part('text/plain', mail.text)}${part('text/html', mail.html)}--${boundary}--\r\n`;
  return { envelope: { from: from.address, to: [to] }, raw: Buffer.from(raw, 'utf8') };
}
