// The return path (the envelope sender, MAIL FROM) of every mail, when BOUNCE_ADDRESS is set:
// bounces+<outbox row>-<tag>@<bounce domain> (VERP). A delivery report goes to it, so the report
// says which outbox row it is about even when it quotes nothing of the mail; the address names a
// row number, never the person, and the tag (a keyed hash of the row, 16 hex digits) keeps anyone
// without the server secret from forging reports that would mark invitees bounced. Lower case
// only: some relays fold the case of local parts.

import { timingSafeEqual } from 'node:crypto';
import type { Secrets } from '../security/secrets.ts';
import { ConfigError } from '../config.ts';

export interface ReturnPaths {
  /** The return path of the mail of this outbox row. */
  forOutbox(outboxId: number): string;
  /** The outbox row a recipient of ours stands for, or undefined when it is not one (or forged). */
  outboxOf(recipient: string): number | undefined;
  /** The bounce address itself, for messages. */
  readonly address: string;
}

function tag(secrets: Secrets, outboxId: number): string {
  return Buffer.from(secrets.hmac('return-path', String(outboxId)), 'base64url').toString('hex').slice(0, 16);
}

/** `address` (BOUNCE_ADDRESS, e.g. bounces@bounce.bureau.nl): where reports are to go. */
export function returnPaths(secrets: Secrets, address: string): ReturnPaths {
  const m = /^([a-z0-9._-]+)@([a-z0-9.-]+\.[a-z]{2,})$/i.exec(address.trim());
  if (!m || m[1]!.includes('+')) throw new ConfigError(`BOUNCE_ADDRESS: "${address}" is not a plain address such as bounces@bounce.bureau.nl (letters, digits, dots and dashes; no "+", which the platform adds itself)`);
  const local = m[1]!.toLowerCase();
  const domain = m[2]!.toLowerCase();
  const pattern = new RegExp(`^${local.replace(/[.]/g, '\\.')}\\+([0-9a-z]{1,12})-([0-9a-f]{16})@${domain.replace(/[.]/g, '\\.')}$`);
  return {
    address: `${local}@${domain}`,
    forOutbox: (outboxId) => `${local}+${outboxId.toString(36)}-${tag(secrets, outboxId)}@${domain}`,
    outboxOf(recipient) {
      const r = pattern.exec(recipient.trim().replace(/^<|>$/g, '').toLowerCase());
      if (!r) return undefined;
      const id = parseInt(r[1]!, 36);
      if (!Number.isSafeInteger(id)) return undefined;
      const expected = Buffer.from(tag(secrets, id));
      const given = Buffer.from(r[2]!);
      return timingSafeEqual(expected, given) ? id : undefined;
    },
  };
}
