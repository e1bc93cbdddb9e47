// Why mail did not go out, summed up for the fieldwork manager (`survey schedule`): per recipient
// domain and reply, so that one mail server turning away a whole organisation (a spam filter, a
// full quota) stands out from a few mistyped addresses, and can be taken up with its IT desk.

import type { Db } from '../db/connection.ts';
import { undeliveredMail } from '../db/outbox.ts';

export interface DeliveryProblem {
  /** failed: given up on (rejected, or too many temporary failures); retrying: tried again later. */
  status: 'failed' | 'retrying';
  domain: string;
  /** The server's reply (or our reason), with addresses taken out so that equal replies group. */
  reply: string;
  mails: number;
}

export async function deliveryProblems(db: Db, surveyId: string): Promise<DeliveryProblem[]> {
  const groups = new Map<string, DeliveryProblem>();
  for (const row of await undeliveredMail(db, surveyId)) {
    const status = row.status === 'failed' ? 'failed' : 'retrying';
    const domain = row.email.slice(row.email.lastIndexOf('@') + 1);
    const reply = replyPattern(row.last_error ?? 'no reason recorded');
    const key = JSON.stringify([status, domain, reply]);
    const group = groups.get(key);
    if (group) group.mails++;
    else groups.set(key, { status, domain, reply, mails: 1 });
  }
  return [...groups.values()].sort((a, b) => b.mails - a.mails || a.status.localeCompare(b.status) || a.domain.localeCompare(b.domain) || a.reply.localeCompare(b.reply));
}

/** A reply with its addresses replaced by <address>, on one line, at most 160 characters. */
export function replyPattern(reply: string): string {
  const text = reply
    .replace(/<[^<>\s]*@[^<>\s]*>|[^\s<>@:;,()"']+@[^\s<>@:;,()"']+/g, '<address>')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 160 ? `${text.slice(0, 159)}…` : text;
}
