// Bounces that come back after the relay took a mail: the recipient's server refused it later,
// and a delivery report came back to the return path (docs/fieldwork.md, "Bounces"). Each report
// is matched to its outbox row (by the VERP return path it was sent to, else by the Message-ID it
// quotes), classed, and recorded: a hard bounce marks the invitee bounced (no more reminders, and
// the dashboard's non-contact figure counts them); a mail reported failed is given up on, so that
// `survey retry` and `survey address` can send it again once the cause is mended; soft bounces
// and delays are counted. Writes the ledger side only; of the answer side it asks just whether
// someone submitted, before marking them bounced.

import type { Db } from '../db/connection.ts';
import { bounceCounts, bouncesOfSurvey, insertBounce, markSentMailFailed, outboxById, outboxByMessageId, type BouncedMail } from '../db/bounces.ts';
import { getInvitee, markBounced } from '../db/invitees.ts';
import { isSubmitted } from '../db/submissions.ts';
import type { Secrets } from '../security/secrets.ts';
import { submissionKeyFor } from './invitations.ts';
import type { BounceKind } from '../db/schema.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import { classifyFailure, readDeliveryReport, type RecipientReport } from '../mail/delivery-report.ts';
import type { ReturnPaths } from '../mail/return-path.ts';

export type BounceOutcome =
  | { recorded: BounceKind; surveyId: string; outboxId: number; status?: string; reason: string }
  | { ignored: string };

/**
 * Takes one mail that came to the return path. `recipients`: the envelope recipients it came to
 * (our VERP addresses); empty when it was read from a mailbox.
 */
export async function receiveBounce(db: Db, secrets: Secrets, paths: ReturnPaths | undefined, recipients: readonly string[], raw: Buffer, now: Date): Promise<BounceOutcome> {
  const report = await readDeliveryReport(raw);
  if (report.notABounce) return { ignored: report.notABounce };
  let mail: BouncedMail | undefined;
  for (const r of recipients) {
    const id = paths?.outboxOf(r);
    if (id !== undefined) mail = await outboxById(db, id);
    if (mail) break;
  }
  mail ??= await outboxByMessageId(db, report.originalMessageIds);
  if (!mail) return { ignored: 'not about a mail of a survey here (no return path of ours, no Message-ID the outbox knows; purged?)' };

  // A report may list several recipients; ours have one each. The worst of what it says counts.
  const classed = report.recipients.map((r) => ({ r, kind: classifyFailure(r) })).filter((c): c is { r: RecipientReport; kind: BounceKind } => c.kind !== undefined);
  const worst = classed.sort((a, b) => RANK[b.kind] - RANK[a.kind] || Number(b.r.action === 'failed') - Number(a.r.action === 'failed'))[0];
  if (!worst) return { ignored: 'a report of delivery, not of a failure' };
  const { r, kind } = worst;
  const reason = r.diagnostic ?? (r.status ? `status ${r.status}` : 'no reason given');
  // Someone who submitted meanwhile (with the mail before) stays submitted: the ledger learns
  // that in a later batch (ledger-marks.ts), and would keep "bounced" over it. Asked of the answer
  // side before, not in, the transaction that writes the ledger.
  const invitee = kind === 'hard' ? await getInvitee(db, mail.invitee_id) : undefined;
  const submitted = invitee !== undefined && (await isSubmitted(db, submissionKeyFor(secrets, invitee)));
  const inserted = await db.transaction().execute(async (trx) => {
    const fresh = await insertBounce(trx, { survey_id: mail.survey_id, outbox_id: mail.id, invitee_id: mail.invitee_id, kind, status: r.status ?? null, reason, report_key: report.reportKey, received_at: now.toISOString() });
    if (!fresh) return false;
    if (r.action === 'failed') await markSentMailFailed(trx, mail.id, `${kind === 'hard' ? 'bounced' : 'refused'} after the relay took it: ${reason}`);
    if (kind === 'hard' && !submitted) await markBounced(trx, mail.invitee_id, amsterdamDate(now));
    return true;
  });
  if (!inserted) return { ignored: 'this report was received before' };
  return { recorded: kind, surveyId: mail.survey_id, outboxId: mail.id, ...(r.status && { status: r.status }), reason };
}

const RANK: Record<BounceKind, number> = { soft: 0, refused: 1, hard: 2 };

export interface BounceSummary {
  /** Invitees with at least one report of each kind. */
  invitees: Record<BounceKind, number>;
  /** Reports per kind, mailing and recipient domain, most first. */
  groups: { kind: BounceKind; mailing: string; domain: string; status: string | null; reports: number }[];
  /** Every report, newest first. */
  reports: { email: string; mailing: string; kind: BounceKind; status: string | null; reason: string; receivedAt: string }[];
}

export async function bounceSummary(db: Db, surveyId: string): Promise<BounceSummary> {
  const rows = await bouncesOfSurvey(db, surveyId);
  const groups = new Map<string, BounceSummary['groups'][number]>();
  for (const row of rows) {
    const domain = row.email.slice(row.email.lastIndexOf('@') + 1);
    const key = JSON.stringify([row.kind, row.mailing_id, domain, row.status]);
    const group = groups.get(key);
    if (group) group.reports++;
    else groups.set(key, { kind: row.kind, mailing: row.mailing_id, domain, status: row.status, reports: 1 });
  }
  return {
    invitees: await bounceCounts(db, surveyId),
    groups: [...groups.values()].sort((a, b) => b.reports - a.reports || RANK[b.kind] - RANK[a.kind] || a.domain.localeCompare(b.domain)),
    reports: rows.map((r) => ({ email: r.email, mailing: r.mailing_id, kind: r.kind, status: r.status, reason: r.reason, receivedAt: r.received_at })),
  };
}
