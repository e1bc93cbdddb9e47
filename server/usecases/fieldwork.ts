// Running fieldwork: close surveys whose time has come, put due mailings in the outbox, and send
// what is due. The server runs this on a timer; `survey send` runs it once. Each mail is checked
// again at the moment it is sent (survey still open, invitee still eligible), sent outside any
// transaction, and its outcome recorded.

import type { Db } from '../db/connection.ts';
import { getInviteeForSending, markBounced, type InviteeRow } from '../db/invitees.ts';
import { claimDue, countDue, ELIGIBLE, enqueueMailing, mailingOf, markFailed, markRetry, markSent, markSkipped, releaseStaleClaims, releaseUnsent, type OutboxRow } from '../db/outbox.ts';
import type { SurveyRow } from '../db/surveys.ts';
import { planCalendar, sendWindowAt, type Plan, type PlannedMailing } from '../domain/survey/calendar.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import { composeMessage } from '../mail/mime.ts';
import { HeaderInjectionError, TemplateError, type MailTemplates } from '../mail/render.ts';
import { isPermanentFailure, MailUnavailableError, type MailTransport, type OutgoingMail } from '../mail/transport.ts';
import type { Secrets } from '../security/secrets.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import { closeSurvey, isClosed } from './answering.ts';
import { revealInvitation } from './invitations.ts';
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

/** The domain of an address ("Naam <a@b.nl>" too), for Message-IDs. */
export function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'localhost';
}

/** Rows claimed per statement; all of them are sent in this run (or released after a crash). */
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
      `${released.length} mails were claimed by a sender that stopped; they are sent now. At most one of them was being transmitted when it stopped: that one may have gone out and may arrive twice`,
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
      const released = await closeSurvey(db, survey, questionnaire, now);
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

  // Send survey by survey (the claim uses the survey's index), each as a pipeline: the next mail
  // is claimed, checked, rendered and composed while the current one is on the wire, and the
  // outcome of each mail is written to disk while the next one is transmitted, all but its end:
  // the server gets that end, and may take the mail, only once the outcome before is durable. So
  // at most one mail is ever in flight (perhaps taken by the server, not yet in the outbox).
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

type Prepared = { row: OutboxRow; invitee: InviteeRow; mail: OutgoingMail; kind: 'invitation' | 'reminder' };

async function sendSurvey(deps: FieldworkDeps, survey: SurveyRow, planned: ReturnType<typeof planOf>, report: FieldworkReport, budget: number, windowClosesAt: Date): Promise<number> {
  const { db } = deps;
  const interval = 60_000 / planned.definition.sending.ratePerMinute;
  let claimed = 0;
  let frozen = survey.frozen_at !== null;
  let lastStart = -Infinity;

  const queue: OutboxRow[] = [];
  // Claimed but not transmitted (the window closed, the process stops, or mail cannot go out):
  // back in line at the end.
  const untransmitted: OutboxRow[] = [];
  // Whether to go on with the next mail: not when the window has closed or the process stops.
  const goOn = () => !deps.stopping?.() && deps.now() < windowClosesAt && !report.unrenderable[survey.id];
  const prepareNext = async (): Promise<Prepared | undefined> => {
    while (goOn() && (claimed < budget || queue.length > 0)) {
      if (queue.length === 0) queue.push(...(await claimDue(db, deps.now(), survey.id, Math.min(CLAIM_BATCH, budget - claimed))));
      const row = queue.shift();
      if (!row) return undefined;
      claimed++;
      const prepared = await prepare(deps, row, survey, planned);
      if ('unrenderable' in prepared) {
        // A template that cannot be rendered (edited since survey create checked it) fails every
        // mail of its mailing alike: no mail is failed for it; they wait until it is mended.
        report.unrenderable[survey.id] = prepared.unrenderable;
        untransmitted.push(row);
        return undefined;
      }
      if ('outcome' in prepared) report[prepared.outcome]++;
      else return prepared;
    }
    return undefined;
  };

  // Writes the outcome of a transmission (undefined error: the server took the mail).
  const recordOutcome = async (p: Prepared, error: unknown) => {
    const outcome = await record(deps, p, planned.definition, error);
    report[outcome]++;
    if (outcome === 'sent' && !frozen) {
      // From the first mail on, the questionnaire version of the survey is fixed.
      frozen = true;
      await db.updateTable('surveys').set({ frozen_at: deps.now().toISOString() }).where('id', '=', survey.id).where('frozen_at', 'is', null).execute();
    }
  };

  // The outcome of the mail before, on its way to disk while the current one is transmitted.
  let recorded: Promise<void> = Promise.resolve();
  let current = await prepareNext();
  // Whether `current` was checked while the mail before was on the wire.
  let checkedEarlier = false;
  while (current) {
    // On the monotonic clock, to the microsecond: with Date.now(), two mails within the same
    // millisecond looked due for a pause even at the highest rates, and every such pause (a
    // timer) lasted at least a millisecond, which held sending to under a thousand mails a second.
    const wait = lastStart + interval - performance.now();
    // Asked before the pause too: a stop that came while the mail before was on the wire must
    // not wait out a pause (two seconds at 30 mails a minute) that nothing wakes any more.
    if (!goOn()) break;
    if (wait > 0) await deps.sleep(wait);
    if (!goOn()) break;
    if (checkedEarlier || wait > 0) {
      // Check again just before it goes out: who responded or was marked, or a survey closed
      // (survey close, from another process) while the mail before was on the wire or during
      // the pause, gets no mail. Rendering stays overlapped with the transmission; this lookup
      // by key is what it costs to send nothing after a close.
      const checked = await check(deps, current.row, survey, planned);
      if ('outcome' in checked) {
        report[checked.outcome]++;
        current = await prepareNext();
        checkedEarlier = false;
        continue;
      }
    }
    lastStart = performance.now();
    const transmission = deps.transport.send(current.mail, recorded).then(
      () => undefined,
      (e: unknown) => e ?? new Error('send failed'),
    );
    const next = prepareNext();
    const error = await transmission;
    // If the outcome before could not be written (the database failed), this mail was abandoned
    // unfinished, and the run ends with that failure.
    await recorded;
    if (error instanceof MailUnavailableError) {
      // Not this mail's fault, and not an attempt: it goes back in line with the rest.
      report.unavailable = error.message;
      const upcoming = await next;
      untransmitted.push(current.row, ...(upcoming ? [upcoming.row] : []));
      current = undefined;
      break;
    }
    recorded = recordOutcome(current, error);
    // Awaited with the next mail; a failure before then is not an unhandled rejection.
    recorded.catch(() => {});
    current = await next;
    checkedEarlier = true;
  }
  await recorded;
  if (current) untransmitted.push(current.row);
  await releaseUnsent(db, [...untransmitted, ...queue].map((r) => r.id));
  return claimed - untransmitted.length;
}

/**
 * Whether a claimed row may still go out now (the invitee still eligible, the survey not closed,
 * also not by `survey close` in the meantime); if not, records why.
 */
async function check(deps: FieldworkDeps, row: OutboxRow, survey: SurveyRow, planned: ReturnType<typeof planOf>): Promise<{ invitee: InviteeRow; mailing: PlannedMailing } | { outcome: 'skipped' | 'failed' }> {
  const { db } = deps;
  const invitee = await getInviteeForSending(db, row.invitee_id);
  // A copy sent again at the invitee's request (survey resend) is its mailing's mail.
  const { mailingId } = mailingOf(row.mailing_id);
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
  return { invitee, mailing };
}

/**
 * Checks a claimed row again, now, and renders its mail; or records why it is not sent; or says
 * why its mailing cannot be rendered at all.
 */
async function prepare(deps: FieldworkDeps, row: OutboxRow, survey: SurveyRow, planned: ReturnType<typeof planOf>): Promise<Prepared | { outcome: 'skipped' | 'failed' } | { unrenderable: string }> {
  const checked = await check(deps, row, survey, planned);
  if ('outcome' in checked) return checked;
  const { invitee, mailing } = checked;
  const { code, token } = revealInvitation(deps.secrets, invitee);
  const messageId = `<${deps.secrets.hmac('mail-id', `${survey.id}:${invitee.id}:${row.mailing_id}`).slice(0, 32)}@${domainOf(planned.definition.mail.from)}>`;
  try {
    const rendered = deps.templates.render({ definition: planned.definition, mailing, invitee, code, token, publicUrl: deps.publicUrl, closesAt: planned.plan.closesAt, messageId });
    return { row, invitee, mail: { rendered, message: composeMessage(rendered, deps.now()) }, kind: mailing.kind };
  } catch (e) {
    if (e instanceof TemplateError) return { unrenderable: `mailing ${mailing.id} cannot be rendered: ${e.message}` };
    if (!(e instanceof HeaderInjectionError)) throw e;
    await markFailed(deps.db, row.id, e.message);
    deps.log.warn({ invitee: invitee.id, mailing: mailing.id }, `not sent: ${e.message}`);
    return { outcome: 'failed' };
  }
}

/** Records the outcome of a transmission (undefined error: accepted by the server). */
async function record(deps: FieldworkDeps, p: Prepared, definition: SurveyDefinition, error: unknown): Promise<'sent' | 'retried' | 'failed' | 'bounced'> {
  const { db } = deps;
  const now = deps.now();
  if (error === undefined) {
    await markSent(db, p.row.id, now, p.mail.rendered.messageId);
    return 'sent';
  }
  const reason = (error as Error).message?.slice(0, 500) ?? String(error);
  if (isPermanentFailure(error)) {
    await markFailed(db, p.row.id, reason);
    await markBounced(db, p.invitee.id, amsterdamDate(now));
    deps.log.warn({ invitee: p.invitee.id, mailing: p.row.mailing_id }, 'permanently rejected: invitee marked bounced');
    return 'bounced';
  }
  if (p.row.attempts >= definition.sending.maxAttempts) {
    await markFailed(db, p.row.id, reason);
    deps.log.warn({ invitee: p.invitee.id, mailing: p.row.mailing_id, attempts: p.row.attempts }, 'giving up after repeated temporary failures');
    return 'failed';
  }
  await markRetry(db, p.row.id, new Date(now.getTime() + retryDelayMs(p.row.attempts)), reason);
  return 'retried';
}
