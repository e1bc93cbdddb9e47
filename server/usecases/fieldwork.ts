// Running fieldwork: close surveys whose time has come, put due mailings in the outbox, and send
// what is due. The server runs this on a timer; `survey send` runs it once. Each mail is checked
// again at the moment it is sent (survey still open, invitee still eligible), sent outside any
// transaction, and its outcome recorded.

import { acknowledgedOnCommit, synced, type Db } from '../db/connection.ts';
import { getInviteeForSending, inviteesForMail, markBounced, type InviteeForSending } from '../db/invitees.ts';
import { claimDue, countDue, ELIGIBLE, enqueueMailing, mailingOf, markFailed, markRetry, markSent, markSkipped, releaseStaleClaims, releaseUnsent, type OutboxRow } from '../db/outbox.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { planCalendar, sendWindowAt, type Plan, type PlannedMailing } from '../domain/survey/calendar.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import { composeMail, type Composition, type MailRun, type MailToCompose } from '../mail/compose.ts';
import type { MailTemplates } from '../mail/render.ts';
import type { ReturnPaths } from '../mail/return-path.ts';
import { isPermanentFailure, MailUnavailableError, type MailTransport, type OutgoingMail } from '../mail/transport.ts';
import type { Secrets } from '../security/secrets.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import { closeSurvey, isClosed } from './answering.ts';
import { isSubmitted } from '../db/submissions.ts';
import { submissionKeyFor } from './invitations.ts';
import type { LedgerMarks } from './ledger-marks.ts';
import type { QuestionnaireRegistry } from './questionnaire-registry.ts';
import { definitionOf } from './surveys.ts';

export interface Log {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface FieldworkDeps {
  db: Db;
  secrets: Secrets;
  transport: MailTransport;
  templates: MailTemplates;
  questionnaires: QuestionnaireRegistry;
  publicUrl: string;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  log: Log;
  /** A row 'sending' for longer than this is taken to be left over from a process that died. */
  staleClaimMs: number;
  /** True once the process is shutting down: the run ends after the mail in flight. */
  stopping?: () => boolean;
  /** The server's marks waiting for the ledger: a survey closed here forgets its own. */
  marks?: LedgerMarks;
  /** With BOUNCE_ADDRESS: every mail gets a return path of its own (mail/return-path.ts). */
  returnPaths?: ReturnPaths;
}

export interface FieldworkReport {
  closed: string[];
  enqueued: Record<string, number>;
  sent: number;
  skipped: number;
  retried: number;
  failed: number;
  bounced: number;
  /** Rows that were being sent when a previous sender stopped; each may be a duplicate. */
  resent: number;
  /** Per survey whose send window is closed: how many mails are due, and when the window opens. */
  waiting: Record<string, { due: number; opensAt: Date }>;
  /** Why no mail could go out (the mail server unreachable, login refused, …); nothing was lost. */
  unavailable?: string;
  /**
   * Per survey whose mail stopped because a template cannot be rendered (edited since `survey
   * create` checked it): why. Its mail waits, none of it failed; other surveys' mail goes on.
   */
  unrenderable: Record<string, string>;
}

export function planOf(survey: SurveyRow): { definition: SurveyDefinition; plan: Plan } {
  const definition = definitionOf(survey);
  const planned = planCalendar(definition.calendar);
  if (!planned.ok) throw new Error(`survey ${survey.id}: its calendar no longer plans: ${planned.problems.map((p) => p.message).join('; ')}`);
  return { definition, plan: planned.plan };
}

/**
 * How many mails' outcomes may be committed and not yet on disk before the sender waits: what a
 * crash of the machine itself (a power failure) may send a second time, besides the mail in
 * flight; about 15 ms of sending at full speed. (Waiting for the disk after every mail, or every
 * second one, held sending to 0.3-0.4 of the SMTP server's pace; after 8, 0.52-0.54; after 32,
 * 0.62-0.66: scripts/bench/fieldwork.ts, alternating runs.)
 */
export const UNSYNCED_OUTCOMES = 32;

/** Rows claimed per statement at most; all of them are sent in this run (or released after a crash). */
const CLAIM_BATCH = 50;

/** Backoff for temporary failures: 1, 2, 4, … minutes, at most 6 hours. */
export function retryDelayMs(attempts: number): number {
  return Math.min(2 ** Math.max(0, attempts - 1), 360) * 60_000;
}

export async function runFieldwork(deps: FieldworkDeps, options: { surveyId?: string; sendLimit?: number } = {}): Promise<FieldworkReport> {
  const { db, log } = deps;
  const report: FieldworkReport = { closed: [], enqueued: {}, sent: 0, skipped: 0, retried: 0, failed: 0, bounced: 0, resent: 0, waiting: {}, unrenderable: {} };

  const released = await releaseStaleClaims(db, deps.now(), deps.staleClaimMs, options.surveyId);
  if (released.length > 0) {
    report.resent = released.length;
    log.warn(
      { outbox: released.map((r) => r.id) },
      `${released.length} mails were claimed by a sender that stopped; they are sent now. At most one of them was being transmitted when it stopped (after a crash of the machine itself, such as a power failure, at most ${UNSYNCED_OUTCOMES + 1}): that one may have gone out and may arrive twice`,
    );
  }

  let surveys = await db.selectFrom('surveys').selectAll().where('purged_at', 'is', null).where('closed_at', 'is', null).execute();
  if (options.surveyId) surveys = surveys.filter((s) => s.id === options.surveyId);
  const plans = new Map<string, ReturnType<typeof planOf>>();
  for (const survey of surveys) {
    const planned = planOf(survey);
    plans.set(survey.id, planned);
    const now = deps.now();
    if (now >= planned.plan.closesAt) {
      const questionnaire = await deps.questionnaires.byHash(survey.questionnaire_hash);
      const released = await closeSurvey(db, deps.secrets, survey, questionnaire, now);
      deps.marks?.forget(survey.id);
      report.closed.push(survey.id);
      log.info({ survey: survey.id, ...released }, 'survey closed by its calendar');
      continue;
    }
    const invitation = planned.plan.mailings.find((m) => m.kind === 'invitation')!;
    for (const mailing of planned.plan.mailings.filter((m) => m.sendAt <= now)) {
      const n = await enqueueMailing(db, survey.id, mailing, invitation.id, now);
      if (n > 0) {
        report.enqueued[`${survey.id}/${mailing.id}`] = n;
        log.info({ survey: survey.id, mailing: mailing.id, invitees: n }, 'mailing queued');
      }
    }
  }

  // Send survey by survey (the claim uses the survey's index), each as a pipeline: mails are
  // claimed and composed a batch ahead; the next mail goes to the transport while the current one
  // is on the wire (its envelope right behind the current one's end), and its own end, when the
  // server may take it, waits for the current one's outcome to be committed and for its own check
  // just then. So at most one mail is ever in flight (perhaps taken by the server, not yet in the
  // outbox).
  // Only while the survey's send window is open: whatever is due outside it (a retry at night,
  // mail left over from a weekend the server was down) waits for the next working morning.
  let budget = options.sendLimit ?? Infinity;
  for (const survey of surveys) {
    const planned = plans.get(survey.id);
    if (!planned || report.closed.includes(survey.id) || budget <= 0) continue;
    if (deps.stopping?.()) break;
    const window = sendWindowAt(planned.definition.calendar, deps.now());
    if (window.open) budget -= await sendSurvey(deps, survey, planned, report, budget, window.closesAt);
    if (report.unavailable) break;
    // Asked again only after sending: the window may have closed meanwhile.
    const after = window.open ? sendWindowAt(planned.definition.calendar, deps.now()) : window;
    if (!after.open) {
      const due = await countDue(db, survey.id, deps.now());
      if (due > 0) report.waiting[survey.id] = { due, opensAt: after.opensAt };
    }
  }
  return report;
}

/** A claimed row with its mail, composed ahead (undefined: its invitee no longer exists). */
type Claimed = { row: OutboxRow; composition: Composition | undefined };

/** A mail given to the transport, whose end waits for the record of the one before and its own check. */
interface Started {
  row: OutboxRow;
  mail: OutgoingMail;
  /** The invitee as read just before the end, or why the mail must not go out after all. */
  checked: Promise<InviteeForSending | NotSent>;
  /** The outcome of the mail before written, which the end waits for too. */
  before: Promise<void>;
  transmission: Promise<unknown>;
  /** This mail's outcome written (committed), or nothing to write: what the mail behind it waits for. */
  recorded: Promise<void>;
  /** Settles `recorded`, once: with the writing of the outcome, or nothing to write. */
  written: (outcome: Promise<void>) => void;
  /** Whether `written` was called: this mail was handled (its outcome written, or back in line). */
  handled?: boolean;
}

/** Why a started mail was abandoned before its end (check() recorded why, if it was skipped or failed). */
class NotSent extends Error {
  constructor(readonly outcome: 'skipped' | 'failed' | 'readdressed' | 'stopped') {
    super(`not sent: ${outcome}`);
  }
}

async function sendSurvey(deps: FieldworkDeps, survey: SurveyRow, planned: ReturnType<typeof planOf>, report: FieldworkReport, budget: number, windowClosesAt: Date): Promise<number> {
  const { db } = deps;
  const { ratePerMinute } = planned.definition.sending;
  const interval = 60_000 / ratePerMinute;
  const batchSize = claimBatch(ratePerMinute);
  const run: MailRun = { surveyId: survey.id, definition: planned.definition, mailings: planned.plan.mailings, closesAt: planned.plan.closesAt, publicUrl: deps.publicUrl, returnPaths: deps.returnPaths };
  const compose = (item: MailToCompose) => composeMail(deps.secrets, deps.templates, run, item, deps.now());
  let claimed = 0;
  let frozen = survey.frozen_at !== null;
  let lastStart = -Infinity;
  // What is left of the pause before the next mail may start (none at the highest rates). On the
  // monotonic clock, to the microsecond: with Date.now(), two mails within the same millisecond
  // looked due for a pause even at the highest rates, and every such pause (a timer) lasted at
  // least a millisecond, which held sending to under a thousand mails a second.
  const pauseLeft = () => lastStart + interval - performance.now();

  // Whether to go on with the next mail: not when the window has closed, the process stops, or
  // this run ends (below, in its finally).
  let ended = false;
  const goOn = () => !ended && !deps.stopping?.() && deps.now() < windowClosesAt && !report.unrenderable[survey.id];
  // The next batch: claimed, its invitees read (one statement each) and its mails composed, while
  // the last mail of the batch before is on the wire. (All of a batch at once: composing each
  // mail in the pauses while the server reads the one before cost more, 0.45 of the server's pace
  // against 0.55-0.6.)
  const claimNext = async (): Promise<Claimed[]> => {
    if (!goOn() || claimed >= budget) return [];
    const rows = await claimDue(db, deps.now(), survey.id, Math.min(batchSize, budget - claimed));
    claimed += rows.length;
    if (rows.length === 0) return [];
    try {
      const invitees = await inviteesForMail(db, rows.map((r) => r.invitee_id));
      return rows.map((row) => {
        const invitee = invitees.get(row.invitee_id);
        return { row, composition: invitee && compose({ outboxId: row.id, outboxMailingId: row.mailing_id, invitee }) };
      });
    } catch (e) {
      await releaseUnsent(db, rows.map((r) => r.id));
      claimed -= rows.length;
      throw e;
    }
  };
  // Claimed rows wait seconds for their turn (claimBatch), also the next batch, claimed ahead;
  // below six mails a minute that one would wait a minute or more, and is claimed when it is due.
  const claimAhead = interval <= 10_000;

  // Claimed rows not yet given to the transport; those left when the run ends (the window
  // closed, the process stops, or mail cannot go out) go back in line.
  let batch: Claimed[] = [];
  let ahead: Promise<Claimed[]> | undefined;
  /** The next mail to start, composed: claiming and composing more when the batch is done. */
  const nextMail = async (): Promise<{ row: OutboxRow; mail: OutgoingMail } | undefined> => {
    for (;;) {
      if (batch.length === 0) {
        batch = await (ahead ?? claimNext());
        ahead = undefined;
        if (batch.length === 0) return undefined;
      }
      if (claimAhead) ahead ??= claimNext();
      const { row, composition } = batch[0]!;
      if (composition && 'mail' in composition) return { row, mail: composition.mail };
      if (composition && 'unrenderable' in composition) {
        // A template that cannot be rendered (edited since survey create checked it) fails every
        // mail of its mailing alike: no mail is failed for it; they wait until it is mended.
        report.unrenderable[survey.id] = composition.unrenderable;
        return undefined;
      }
      batch.shift();
      const reason = composition?.refused ?? 'the invitee no longer exists';
      await markFailed(db, row.id, reason);
      deps.log.warn({ invitee: row.invitee_id, mailing: row.mailing_id }, `not sent: ${reason}`);
      report.failed++;
    }
  };

  // Starts the next mail while the one before (`previous`) is still on the wire: with PIPELINING
  // its envelope leaves right behind that one's end. Its own end (when the server takes it) waits
  // for the record of the mail before (at most one mail in flight) and for a check made just
  // then: who responded or was marked, or a survey closed (survey close, from another process)
  // since the mail was composed, gets no mail, nor does anyone once the run is to stop.
  const start = async (previous: Started | undefined): Promise<Started | undefined> => {
    if (!goOn()) return undefined;
    const next = await nextMail();
    if (!next) return undefined;
    const wait = pauseLeft();
    if (wait > 0) await deps.sleep(wait);
    if (!goOn()) return undefined;
    batch.shift();
    let resolve!: (p: Promise<void>) => void;
    const recorded = new Promise<void>((r) => (resolve = r));
    // Awaited through the mail behind it, or at the end of the run.
    recorded.catch(() => {});
    // Checked once the mail before is done (what happened meanwhile, such as a close, shows),
    // while its outcome is being written.
    const checked = (previous?.transmission ?? Promise.resolve()).then(async () => {
      if (!goOn()) return new NotSent('stopped');
      const c = await check(deps, next.row, survey, planned);
      if ('outcome' in c) return new NotSent(c.outcome);
      // Composed before an address correction (survey address): composed again, and sent next.
      if (c.invitee.email !== next.mail.rendered.to.address) return new NotSent('readdressed');
      return c.invitee;
    });
    const before = previous?.recorded ?? Promise.resolve();
    const end = Promise.all([before, checked.then((c) => (c instanceof NotSent ? Promise.reject(c) : c))]);
    // Handled below, through `checked`, whether or not the transport waits for it.
    end.catch(() => {});
    lastStart = performance.now();
    const transmission = deps.transport.send(next.mail, end).then(
      () => undefined,
      (e: unknown) => e ?? new Error('send failed'),
    );
    const started: Started = {
      ...next,
      checked,
      before,
      transmission,
      recorded,
      written: (outcome) => {
        started.handled = true;
        resolve(outcome);
      },
    };
    return started;
  };

  // Outcomes are acknowledged once committed: that is what lets the server take the next mail
  // (a crash of the process repeats at most the mail in flight). Their sync to disk runs behind,
  // UNSYNCED_OUTCOMES mails at most (a crash of the machine repeats at most those).
  const outcomes = acknowledgedOnCommit(db);
  let unsynced = 0;
  let syncing: Promise<void> = Promise.resolve();
  const backInLine = (mail: Started) => batch.unshift({ row: mail.row, composition: { mail: mail.mail } });
  // The mail on the wire, and the one started behind it.
  let onWire: Started | undefined;
  let following: Promise<Started | undefined> | undefined;
  let lastRecorded: Promise<void> = Promise.resolve();
  try {
    onWire = await start(undefined);
    while (onWire) {
      const current = onWire;
      // Started now when it may go at once (the rate does not ask for a pause), else once this
      // one is done: a pause begins with the outcome of the mail before it.
      if (pauseLeft() <= 0) {
        following = start(current);
        following.catch(() => {});
      }
      const error = await current.transmission;
      const takenAt = deps.now();
      // If the outcome before could not be written (the database failed), or the check could not
      // read, this mail was abandoned unfinished, and the run ends with that failure.
      await current.before;
      const checked = await current.checked;
      if (checked instanceof NotSent) {
        if (checked.outcome === 'skipped' || checked.outcome === 'failed') report[checked.outcome]++;
        else if (checked.outcome === 'readdressed') {
          const invitee = (await inviteesForMail(db, [current.row.invitee_id])).get(current.row.invitee_id);
          batch.unshift({ row: current.row, composition: invitee && compose({ outboxId: current.row.id, outboxMailingId: current.row.mailing_id, invitee }) });
        }
        // Stopped: back in line.
        else backInLine(current);
        current.written(Promise.resolve());
      } else if (error instanceof MailUnavailableError) {
        // Not this mail's fault, and not an attempt: it goes back in line with the rest.
        report.unavailable = error.message;
        backInLine(current);
        current.written(Promise.reject(new NotSent('stopped')));
        break;
      } else {
        // The outcome of this mail is known: it is written while the next mail is on the wire.
        current.written(
          (async () => {
            const outcome = await record(deps, outcomes, current.row, checked, current.mail, planned.definition, error, takenAt);
            report[outcome]++;
            if (outcome === 'sent' && !frozen) {
              // From the first mail on, the questionnaire version of the survey is fixed.
              frozen = true;
              await outcomes.updateTable('surveys').set({ frozen_at: deps.now().toISOString() }).where('id', '=', survey.id).where('frozen_at', 'is', null).execute();
            }
            // Every half window a sync is asked for, and the one asked for before must be done.
            if (++unsynced === UNSYNCED_OUTCOMES / 2) {
              unsynced = 0;
              const before = syncing;
              syncing = synced(db);
              syncing.catch(() => {});
              await before;
            }
          })(),
        );
        lastRecorded = current.recorded;
      }
      onWire = await (following ?? start(current));
      following = undefined;
    }
    await lastRecorded;
    await synced(db);
  } finally {
    // Whatever was claimed and not transmitted goes back in line, also when the run fails: the
    // mail started behind the last one too, abandoned before its end.
    ended = true;
    // A mail whose outcome was not handled never ended: the run failed on it (reading its
    // check, or writing the outcome before it).
    if (onWire && !onWire.handled) {
      backInLine(onWire);
      onWire.written(Promise.reject(new NotSent('stopped')));
    }
    const behind = await following?.catch(() => undefined);
    if (behind) {
      await behind.transmission;
      backInLine(behind);
    }
    await lastRecorded.catch(() => {});
    const left = [...batch, ...(ahead ? await ahead.catch(() => []) : [])];
    await releaseUnsent(db, left.map((c) => c.row.id));
    claimed -= left.length;
  }
  return claimed;
}

/**
 * Rows claimed at a time: about ten seconds of sending at the survey's rate (and at most 50), so
 * that a claimed row waits seconds, not the hour 50 mails take at one a minute, far beyond the
 * time after which another sender takes a claim for left over from a crash.
 */
function claimBatch(ratePerMinute: number): number {
  return Math.max(1, Math.min(CLAIM_BATCH, Math.floor(ratePerMinute / 6)));
}

/**
 * Whether a claimed row may still go out now (the invitee still eligible, the survey not closed,
 * also not by `survey close` in the meantime); if not, records why.
 */
async function check(deps: FieldworkDeps, row: OutboxRow, survey: SurveyRow, planned: ReturnType<typeof planOf>): Promise<{ invitee: InviteeForSending } | { outcome: 'skipped' | 'failed' }> {
  const { db } = deps;
  const invitee = await getInviteeForSending(db, row.invitee_id);
  // A copy sent again at the invitee's request (survey resend) is its mailing's mail.
  const { mailingId, copy } = mailingOf(row.mailing_id);
  const mailing = planned.plan.mailings.find((m) => m.id === mailingId);
  if (!invitee || !mailing) {
    await markFailed(db, row.id, 'the invitee or the mailing no longer exists');
    return { outcome: 'failed' };
  }
  const now = deps.now();
  if (isClosed(survey, now) || invitee.survey_closed_at !== null || now >= planned.plan.closesAt) {
    await markSkipped(db, row.id, 'the survey is closed');
    return { outcome: 'skipped' };
  }
  if (!ELIGIBLE[mailing.kind].includes(invitee.state)) {
    await markSkipped(db, row.id, `invitee is ${invitee.state}`);
    return { outcome: 'skipped' };
  }
  // The ledger learns "submitted" in a later batch (ledger-marks.ts); the answer side knows now.
  // Not asked for someone's first invitation: before it nobody has their code (a copy on request
  // and a reminder come after it), and the question costs a decryption and two keyed hashes a
  // mail, a tenth of what the sender spends on one at full speed.
  const afterInvitation = mailing.kind === 'reminder' || copy > 1;
  if (afterInvitation && (await isSubmitted(db, submissionKeyFor(deps.secrets, invitee)))) {
    await markSkipped(db, row.id, 'invitee has submitted');
    return { outcome: 'skipped' };
  }
  return { invitee };
}

/** Records the outcome of a transmission (undefined error: accepted by the server) in `db`. */
async function record(deps: FieldworkDeps, db: Db, row: OutboxRow, invitee: InviteeForSending, mail: OutgoingMail, definition: SurveyDefinition, error: unknown, now: Date): Promise<'sent' | 'retried' | 'failed' | 'bounced'> {
  if (error === undefined) {
    await markSent(db, row.id, now, mail.rendered.messageId);
    return 'sent';
  }
  const reason = (error as Error).message?.slice(0, 500) ?? String(error);
  if (isPermanentFailure(error)) {
    await markFailed(db, row.id, reason);
    await markBounced(db, invitee.id, amsterdamDate(now));
    deps.log.warn({ invitee: invitee.id, mailing: row.mailing_id }, 'permanently rejected: invitee marked bounced');
    return 'bounced';
  }
  if (row.attempts >= definition.sending.maxAttempts) {
    await markFailed(db, row.id, reason);
    deps.log.warn({ invitee: invitee.id, mailing: row.mailing_id, attempts: row.attempts }, 'giving up after repeated temporary failures');
    return 'failed';
  }
  await markRetry(db, row.id, new Date(now.getTime() + retryDelayMs(row.attempts)), reason);
  return 'retried';
}
