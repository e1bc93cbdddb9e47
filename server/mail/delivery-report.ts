// Reading a mail that came back to the return path: a delivery status notification (RFC 3464,
// multipart/report with a message/delivery-status part, as Postfix, Exim 4, Exchange and Gmail
// send them), the older free-text bounces (qmail, old Exim, some appliances), or something that
// is no bounce at all (an out-of-office reply). What it says about each recipient is classed in
// classifyFailure: only a report that the address itself is dead is a hard bounce.

import { createHash } from 'node:crypto';
import { simpleParser } from 'mailparser';
import type { BounceKind } from '../db/schema.ts';

export interface RecipientReport {
  /** Final-Recipient, when the report names one. */
  recipient?: string;
  action: 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';
  /** Enhanced status code (RFC 3463), e.g. 5.1.1. */
  status?: string;
  /** The remote server's reply or the reporting server's reason, on one line. */
  diagnostic?: string;
}

export interface DeliveryReport {
  /** Whose report this is not: an automatic reply (out of office) or a person writing back. */
  notABounce?: string;
  recipients: RecipientReport[];
  /** Message-IDs the report quotes from the mail it is about (its attached original or headers). */
  originalMessageIds: string[];
  /** The report's own Message-ID, or a hash of its text: the same report received twice is one. */
  reportKey: string;
}

/** At most this much of a report is read (the quoted original may be large; the report is first). */
export const MAX_REPORT_BYTES = 1_000_000;

const ACTIONS = new Set(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);

export async function readDeliveryReport(raw: Buffer): Promise<DeliveryReport> {
  const mail = await simpleParser(raw.subarray(0, MAX_REPORT_BYTES), { skipHtmlToText: true, skipImageLinks: true, skipTextLinks: true });
  const header = (name: string) => {
    const v = mail.headers.get(name);
    return typeof v === 'string' ? v : v === undefined ? undefined : JSON.stringify(v);
  };
  const ownId = mail.messageId;
  const reportKey = ownId ?? `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  // mailparser puts the message/delivery-status part into the text, after the human-readable one.
  const text = mail.text ?? '';
  const quoted = mail.attachments.map((a) => a.content.toString('utf8')).join('\n');
  const originalMessageIds = [...`${quoted}\n${text}`.matchAll(/^Message-ID:[ \t]*(?:\r?\n[ \t]+)?(<[^<>\s]+>)/gim)].map((m) => m[1]!).filter((id) => id !== ownId);

  const contentType = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  const isReport = contentType?.value === 'multipart/report' && /delivery-status/i.test(contentType.params?.['report-type'] ?? '');
  const recipients = isReport || /^Action:/im.test(text) ? statusGroups(text) : [];
  if (recipients.length > 0) return { recipients, originalMessageIds, reportKey };

  const from = mail.from?.value[0]?.address ?? '';
  const subject = mail.subject ?? '';
  const autoSubmitted = header('auto-submitted') ?? '';
  const bounceLike = /^(mailer-daemon|postmaster|mail-daemon|mdaemon)@/i.test(from) || /undeliver|returned mail|delivery (status notification|fail|problem)|failure notice|mail delivery failed|non.?delivery|niet (afgeleverd|bezorgd)|onbestelbaar/i.test(subject);
  if (!bounceLike) {
    const why = /auto-replied/i.test(autoSubmitted) || header('x-autoreply') || /auto_reply/i.test(header('precedence') ?? '') ? 'an automatic reply (out of office?), not a delivery report' : 'no delivery report: not from a mail system, and no report part';
    return { notABounce: why, recipients: [], originalMessageIds, reportKey };
  }
  return { recipients: [freeTextReport(text)], originalMessageIds, reportKey };
}

/** The per-recipient field groups of a message/delivery-status part (RFC 3464, 2.3). */
function statusGroups(text: string): RecipientReport[] {
  const groups: RecipientReport[] = [];
  // Fields, with their continuation lines joined; a blank line ends a group.
  for (const block of text.replace(/\r\n/g, '\n').split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    for (const m of block.replace(/\n[ \t]+/g, ' ').matchAll(/^([A-Za-z-]+):[ \t]*(.*)$/gm)) fields.set(m[1]!.toLowerCase(), m[2]!.trim());
    const action = fields.get('action')?.toLowerCase().split(/[\s(]/)[0];
    if (!action || !ACTIONS.has(action)) continue;
    const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(fields.get('status') ?? '')?.[1];
    const recipient = afterType(fields.get('final-recipient') ?? fields.get('original-recipient'));
    const diagnostic = afterType(fields.get('diagnostic-code'));
    groups.push({ action: action as RecipientReport['action'], ...(recipient && { recipient }), ...(status && { status }), ...(diagnostic && { diagnostic: oneLine(diagnostic) }) });
  }
  return groups;
}

/** "rfc822; a@b.nl" → "a@b.nl", "smtp; 550 …" → "550 …" (RFC 3464's address and diagnostic types). */
function afterType(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const semicolon = value.indexOf(';');
  return (semicolon < 0 ? value : value.slice(semicolon + 1)).trim() || undefined;
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

/**
 * A bounce in free text (no report part): whether it says the mail is only delayed, and the first
 * server reply it quotes (Exim: "SMTP error from remote mail server after RCPT TO:<…>: 550 …";
 * qmail: "<a@b.nl>: … said: 550 …").
 */
function freeTextReport(text: string): RecipientReport {
  const delayed = /has not (yet )?been delivered|not yet been delivered|delayed|will (continue to )?(be )?retr(y|ied)|still trying|warning: message/i.test(text) && !/permanent(ly)? (error|fail)|could not be delivered|gave up/i.test(text);
  const reply = /\b([45]\d\d)[ -]((?:[245]\.\d{1,3}\.\d{1,3} )?[^\n]*)/.exec(text);
  const status = /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply?.[0] ?? text)?.[1];
  const recipient = /<([^<>\s@]+@[^<>\s@]+)>:/.exec(text)?.[1];
  const diagnostic = reply ? `${reply[1]} ${reply[2]}` : text.split('\n').find((l) => NO_SUCH_ADDRESS.test(l) || /rejected|refused|delayed/i.test(l));
  return { action: delayed ? 'delayed' : 'failed', ...(recipient && { recipient }), ...(status && { status }), ...(diagnostic && { diagnostic: oneLine(diagnostic) }) };
}

/** Words servers use when the mailbox or the address does not exist. */
const NO_SUCH_ADDRESS = /user unknown|unknown (user|recipient|address)|no such (user|mailbox|recipient|address)|no mailbox|does ?n[o']t exist|not exist|mailbox (unavailable|not found|disabled)|invalid (recipient|mailbox|address)|recipient (address )?rejected|address rejected|account (has been )?(disabled|closed|deleted)|bestaat niet|onbekend/i;

/**
 * What a recipient's report means for the invitee, or undefined when it is no failure (delivered,
 * relayed, expanded). Hard only when the address is dead: 5.1.x (bad mailbox or domain, but not
 * 5.1.7/5.1.8, our own sender address), 5.2.x but a full mailbox (5.2.2), 5.4.1/5.4.4 (no
 * such domain, no route: Exchange Online's unknown recipient is 5.4.1), or a permanent failure in
 * the words of a dead mailbox. 5.7.x (spam filter, policy) and other permanent failures are
 * refused: the address may be good. Delays and 4.x.x are soft.
 */
export function classifyFailure(report: RecipientReport): BounceKind | undefined {
  if (report.action === 'delivered' || report.action === 'relayed' || report.action === 'expanded') return undefined;
  if (report.action === 'delayed') return 'soft';
  const [cls, subject, detail] = (report.status ?? '').split('.').map(Number);
  const words = report.diagnostic ?? '';
  if (cls === 4) return 'soft';
  if (cls === 5) {
    if (subject === 7 || (subject === 1 && (detail === 7 || detail === 8))) return 'refused';
    if (subject === 1) return 'hard';
    if (subject === 2) return detail === 2 ? 'soft' : detail === 3 ? 'refused' : 'hard';
    if (subject === 4 && (detail === 1 || detail === 4)) return 'hard';
    if (subject === 3 || subject === 4) return 'soft';
  }
  if (/^4\d\d\b/.test(words)) return 'soft';
  return NO_SUCH_ADDRESS.test(words) ? 'hard' : 'refused';
}
