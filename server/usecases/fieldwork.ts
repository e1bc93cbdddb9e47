// Running fieldwork: close surveys whose time has come, put due mailings in the outbox, and send
// what is due. The server runs this on a timer; `survey send` runs it once. Each mail is checked
// again at the moment it is sent (survey still open, invitee still eligible), sent outside any
// transaction, and its outcome recorded.

import type { Db } from '../db/connection.ts';
import { markBounced, type InviteeRow } from '../db/invitees.ts';
import { claimNext, ELIGIBLE, enqueueMailing, markFailed, markRetry, markSent, markSkipped, releaseStaleClaims, type OutboxRow } from '../db/outbox.ts';
import { getSurvey, type SurveyRow } from '../db/surveys.ts';
import { planCalendar, type Plan } from '../domain/survey/calendar.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import { HeaderInjectionError, type MailTemplates } from '../mail/render.ts';
import { isPermanentFailure, type MailTransport } from '../mail/transport.ts';
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
}

export function planOf(survey: SurveyRow): { definition: SurveyDefinition; plan: Plan } {
  const definition = definitionOf(survey);
  const planned = planCalendar(definition.calendar);
  if (!planned.ok) throw new Error(`survey ${survey.id}: its calendar no longer plans: ${planned.problems.map((p) => p.message).join('; ')}`);
  return { definition, plan: planned.plan };
}

function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'localhost';
}

/** Backoff for temporary failures: 1, 2, 4, … minutes, at most 6 hours. */
export function retryDelayMs(attempts: number): number {
  return Math.min(2 ** Math.max(0, attempts - 1), 360) * 60_000;
}

export async function runFieldwork(deps: FieldworkDeps, options: { surveyId?: string; sendLimit?: number } = {}): Promise<FieldworkReport> {
  const { db, log } = deps;
  const report: FieldworkReport = { closed: [], enqueued: {}, sent: 0, skipped: 0, retried: 0, failed: 0, bounced: 0, resent: 0 };

  for (const row of await releaseStaleClaims(db, deps.now(), deps.staleClaimMs, options.surveyId)) {
    report.resent++;
    log.warn({ outbox: row.id, invitee: row.invitee_id, mailing: row.mailing_id }, 'this mail was being sent when the sender stopped and may have gone out; it is sent again');
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

  const lastSent = new Map<string, number>();
  for (let count = 0; options.sendLimit === undefined || count < options.sendLimit; count++) {
    const row = await claimNext(db, deps.now(), options.surveyId);
    if (!row) break;
    const survey = await getSurvey(db, row.survey_id);
    const planned = survey && (plans.get(survey.id) ?? planOf(survey));
    if (survey && planned) {
      const interval = 60_000 / planned.definition.sending.ratePerMinute;
      const wait = (lastSent.get(survey.id) ?? -Infinity) + interval - Date.now();
      if (wait > 0) await deps.sleep(wait);
    }
    const outcome = await deliver(deps, row, survey, planned);
    report[outcome]++;
    if (outcome === 'sent' && survey) lastSent.set(survey.id, Date.now());
  }
  return report;
}

type Outcome = 'sent' | 'skipped' | 'retried' | 'failed' | 'bounced';

async function deliver(deps: FieldworkDeps, row: OutboxRow, survey: SurveyRow | undefined, planned: ReturnType<typeof planOf> | undefined): Promise<Outcome> {
  const { db } = deps;
  const invitee: InviteeRow | undefined = await db.selectFrom('invitees').selectAll().where('id', '=', row.invitee_id).executeTakeFirst();
  const mailing = planned?.plan.mailings.find((m) => m.id === row.mailing_id);
  if (!survey || !planned || !invitee || !mailing) {
    await markFailed(db, row.id, 'the survey, invitee or mailing no longer exists');
    return 'failed';
  }
  // Checked again now, not only when the mailing was queued.
  const now = deps.now();
  if (isClosed(survey, now) || now >= planned.plan.closesAt) {
    await markSkipped(db, row.id, 'the survey is closed');
    return 'skipped';
  }
  if (!ELIGIBLE[mailing.kind].includes(invitee.state)) {
    await markSkipped(db, row.id, `invitee is ${invitee.state}`);
    return 'skipped';
  }
  const { code, token } = revealInvitation(deps.secrets, invitee);
  const messageId = `<${deps.secrets.hmac('mail-id', `${survey.id}:${invitee.id}:${mailing.id}`).slice(0, 32)}@${domainOf(planned.definition.mail.from)}>`;
  let mail;
  try {
    mail = deps.templates.render({ definition: planned.definition, mailing, invitee, code, token, publicUrl: deps.publicUrl, closesAt: planned.plan.closesAt, messageId });
  } catch (e) {
    if (!(e instanceof HeaderInjectionError)) throw e;
    await markFailed(db, row.id, e.message);
    deps.log.warn({ invitee: invitee.id, mailing: mailing.id }, `not sent: ${e.message}`);
    return 'failed';
  }
  try {
    await deps.transport.send(mail);
  } catch (e) {
    const reason = (e as Error).message.slice(0, 500);
    if (isPermanentFailure(e)) {
      await markFailed(db, row.id, reason);
      await markBounced(db, invitee.id, amsterdamDate(now));
      deps.log.warn({ invitee: invitee.id, mailing: mailing.id }, 'permanently rejected: invitee marked bounced');
      return 'bounced';
    }
    if (row.attempts >= planned.definition.sending.maxAttempts) {
      await markFailed(db, row.id, reason);
      deps.log.warn({ invitee: invitee.id, mailing: mailing.id, attempts: row.attempts }, 'giving up after repeated temporary failures');
      return 'failed';
    }
    await markRetry(db, row.id, new Date(now.getTime() + retryDelayMs(row.attempts)), reason);
    return 'retried';
  }
  await markSent(db, row.id, deps.now(), messageId);
  await db.updateTable('surveys').set({ frozen_at: deps.now().toISOString() }).where('id', '=', survey.id).where('frozen_at', 'is', null).execute();
  return 'sent';
}
