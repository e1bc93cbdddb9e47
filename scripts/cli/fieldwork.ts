// Fieldwork commands: create a survey from its definition, import the sample frame, show the
// schedule, send, mark dispositions, close and purge. Each returns an exit code.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseOpenError, openDatabase, type Db } from '../../server/db/connection.ts';
import { findInviteeByEmail, type InviteeRow } from '../../server/db/invitees.ts';
import { getSurvey, type SurveyRow } from '../../server/db/surveys.ts';
import { formatProblem } from '../../server/domain/questionnaire/index.ts';
import { configFromEnvironment } from '../../server/environment.ts';
import { ConfigError } from '../../server/config.ts';
import { audienceBySample, countDue, mailingOf, outboxCounts } from '../../server/db/outbox.ts';
import { closeDateText } from '../../server/domain/survey/dates.ts';
import { createMailer } from '../../server/mail/setup.ts';
import { TemplateError } from '../../server/mail/render.ts';
import { MailUnavailableError } from '../../server/mail/transport.ts';
import { createSecrets, type Secrets } from '../../server/security/secrets.ts';
import { closeSurvey } from '../../server/usecases/answering.ts';
import { planOf, runFieldwork } from '../../server/usecases/fieldwork.ts';
import { partOfSample, type PlannedMailing } from '../../server/domain/survey/calendar.ts';
import { importFrame } from '../../server/usecases/import-frame.ts';
import { isEmailAddress, normalizeEmail } from '../../server/domain/survey/addresses.ts';
import { previewMailings, sendTestMail } from '../../server/usecases/mail-preview.ts';
import { CALL_OUTCOMES, callList, codeFor, phoningProgress, recordCall } from '../../server/usecases/phoning.ts';
import { nonResponseQuestions, nonResponseSummary, recordNonResponseInterview } from '../../server/usecases/nonresponse.ts';
import type { CallOutcome } from '../../server/db/schema.ts';
import { surveyOverview } from '../../server/usecases/overview.ts';
import { PREVIEW_CODE, PREVIEW_TOKEN } from '../../server/mail/preview.ts';
import { formatCode } from '../../server/domain/codes.ts';
import { amsterdamDate } from '../../server/domain/survey/dates.ts';
import { removeSurveyMailFiles } from '../../server/mail/transport.ts';
import { returnPaths } from '../../server/mail/return-path.ts';
import { csv } from '../../server/domain/csv.ts';
import { smallCarriedStrata } from '../../server/usecases/carried-strata.ts';
import { purgeSurvey, sentBeforePurge } from '../../server/usecases/purge.ts';
import { hasAnswersInProgress, hasSubmitted, recordDisposition } from '../../server/usecases/refusal.ts';
import { correctAddress, deliveryProblems, retryUndelivered } from '../../server/usecases/delivery-problems.ts';
import { resendMail } from '../../server/usecases/resend.ts';
import { markList } from '../../server/usecases/mark-list.ts';
import { EXPORT_FORMATS, exportFormatsOf, exportSurvey, type ExportFormat } from '../../server/usecases/exports.ts';
import { audit } from '../../server/db/audit.ts';
import { cliActor } from './actor.ts';
import { stratumLabel, surveyStatus, surveyStatusBy, type StatusRow } from '../../server/usecases/status.ts';
import { percent } from '../../server/domain/metrics/index.ts';
import { QuestionnaireRegistry } from '../../server/usecases/questionnaire-registry.ts';
import { definitionOf, loadDefinitionFile, saveSurvey, SurveyError } from '../../server/usecases/surveys.ts';
import { checkServerSecret, SecretMismatchError } from '../../server/usecases/server-secret.ts';
import { stopSignal } from '../../server/usecases/stop-signal.ts';
import type { Output } from './output.ts';

export interface CliContext {
  config: ReturnType<typeof configFromEnvironment>;
  db: Db;
  secrets: Secrets;
  questionnaires: QuestionnaireRegistry;
  io: Output;
  /** Whether to draw a progress bar (stderr is a terminal). */
  progress: boolean;
}

export async function withContext(io: Output, env: NodeJS.ProcessEnv, run: (ctx: CliContext) => Promise<number>): Promise<number> {
  let config: ReturnType<typeof configFromEnvironment>;
  try {
    config = configFromEnvironment(env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    io.err(e.message);
    return 1;
  }
  let db: Db;
  try {
    db = await openDatabase(config.databasePath);
  } catch (e) {
    if (!(e instanceof DatabaseOpenError)) throw e;
    io.err(e.message);
    return 1;
  }
  try {
    const secrets = createSecrets(config.secret);
    await checkServerSecret(db, secrets, config.secretSource ?? 'the configured secret');
    return await run({ config, db, secrets, questionnaires: new QuestionnaireRegistry(db), io, progress: process.stderr.isTTY === true });
  } catch (e) {
    if (e instanceof SurveyError) {
      io.err(e.message);
      return 1;
    }
    if (e instanceof SecretMismatchError) {
      io.err(`${config.databasePath}: ${e.message}`);
      return 1;
    }
    if (e instanceof ConfigError) {
      io.err(e.message);
      return 1;
    }
    throw e;
  } finally {
    await db.destroy();
  }
}

/** "1 row", "2 rows". */
export const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

const when = (d: Date, tz: string) =>
  new Intl.DateTimeFormat('nl-NL', { timeZone: tz, weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);

/** A survey by id, or from a definition file (created or updated first). */
export async function resolveSurvey(ctx: CliContext, arg: string): Promise<SurveyRow | undefined> {
  if (arg.endsWith('.json') && existsSync(arg)) {
    const id = await createFromFile(ctx, arg);
    return id === undefined ? undefined : getSurvey(ctx.db, id);
  }
  const survey = await getSurvey(ctx.db, arg);
  if (!survey) ctx.io.err(`there is no survey "${arg}"; create one with: survey create <definition.json>`);
  return survey;
}

/** A survey (as resolveSurvey) and one of its invitees by address; says so if either is not there. */
async function resolveInvitee(ctx: CliContext, surveyArg: string, email: string): Promise<{ survey: SurveyRow; invitee: InviteeRow } | undefined> {
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return undefined;
  const invitee = await findInviteeByEmail(ctx.db, survey.id, email);
  if (!invitee) ctx.io.err(`${email} is not invited to survey ${survey.id}`);
  return invitee && { survey, invitee };
}

/** Creates or updates the survey of a definition file; returns its id, or undefined on problems. */
async function createFromFile(ctx: CliContext, file: string): Promise<string | undefined> {
  const checked = loadDefinitionFile(file);
  if (!checked.ok) {
    for (const p of checked.problems) ctx.io.err(formatProblem(file, p));
    return undefined;
  }
  const { definition, plan } = checked.survey;
  const outcome = await saveSurvey(ctx.db, checked.survey, ctx.config.now());
  const tz = plan.timezone;
  ctx.io.out(`${outcome} survey ${definition.id} (${definition.title}): opens ${when(plan.opensAt, tz)}, open through ${closeDateText(plan.closesAt, tz)}, ${plan.mailings.length} mailings`);
  const saved = await getSurvey(ctx.db, definition.id);
  if (saved) for (const warning of await smallCarriedStrata(ctx.db, saved)) ctx.io.err(`${file}: warning: ${warning}`);
  return definition.id;
}

export async function createCommand(ctx: CliContext, files: string[]): Promise<number> {
  let ok = true;
  for (const file of files) ok = (await createFromFile(ctx, file)) !== undefined && ok;
  return ok ? 0 : 1;
}

function progressBar(ctx: CliContext) {
  let last = '';
  return (done: number, total: number, phase: string) => {
    if (!ctx.progress || total === 0) return;
    const width = 30;
    const filled = Math.round((done / total) * width);
    const line = `\r${phase.padEnd(9)} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}`;
    if (line !== last) process.stderr.write(line + (done === total ? '\n' : ''));
    last = line;
  };
}

export async function listCommand(ctx: CliContext): Promise<number> {
  const surveys = await surveyOverview(ctx.db, ctx.config.now());
  if (surveys.length === 0) {
    ctx.io.out('no surveys yet; create one with: survey create <definition.json>');
    return 0;
  }
  // The last day open: a survey that closes at midnight is open through the day before.
  const rows = surveys.map((s) => [s.id, s.stage, amsterdamDate(s.opensAt), amsterdamDate(new Date(s.closesAt.getTime() - 1)), String(s.invited), String(s.responses), s.title]);
  const header = ['survey', 'stage', 'opens', 'open through', 'invited', 'responses', 'title'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : i === 4 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  ctx.io.out(line(header));
  for (const r of rows) ctx.io.out(line(r));
  return 0;
}

export async function importCommand(ctx: CliContext, surveyArg: string, file: string): Promise<number> {
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  if (survey.purged_at || survey.closed_at) {
    ctx.io.err(`survey ${survey.id} is ${survey.purged_at ? 'purged' : 'closed'}: nothing can be imported`);
    return 1;
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    ctx.io.err(`${file}: cannot read the file`);
    return 1;
  }
  const questionnaire = await ctx.questionnaires.byHash(survey.questionnaire_hash);
  const started = performance.now();
  const result = await importFrame(ctx.db, ctx.secrets, survey, questionnaire, bytes, ctx.config.now(), progressBar(ctx));
  if (result.problems.length > 0) {
    for (const p of result.problems) ctx.io.err(`${file}:${p.line}: ${p.message}`);
    const n = result.problems.length;
    ctx.io.err(`${n}${n >= 1000 ? '+' : ''} problem${n === 1 ? '' : 's'}: nothing was imported`);
    return 1;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  ctx.io.out(`${file}: ${plural(result.rows, 'row', 'rows')}; ${plural(result.added, 'new invitee', 'new invitees')} imported, ${result.existing} already in survey ${survey.id} (${seconds} s)`);
  for (const warning of await smallCarriedStrata(ctx.db, survey)) ctx.io.err(`warning: ${warning}`);
  return 0;
}

export async function scheduleCommand(ctx: CliContext, surveyArg: string): Promise<number> {
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const { definition, plan } = planOf(survey);
  const tz = plan.timezone;
  const { io, db } = ctx;
  io.out(`${survey.id}: ${definition.title}`);
  const ended = [survey.closed_at && `closed ${when(new Date(survey.closed_at), tz)}`, survey.purged_at && `purged ${when(new Date(survey.purged_at), tz)}`].filter(Boolean);
  io.out(`opens ${when(plan.opensAt, tz)}; open through ${closeDateText(plan.closesAt, tz)} (${tz})${ended.map((e) => `; ${e}`).join('')}`);
  io.out('');
  const outbox = await outboxCounts(db, survey.id);
  const purgedSent = survey.purged_at ? await sentBeforePurge(db, survey.id) : undefined;
  const status = (m: PlannedMailing): string => {
    if (purgedSent) {
      const again = [...purgedSent].filter(([id]) => id !== m.id && mailingOf(id).mailingId === m.id).reduce((sum, [, n]) => sum + n, 0);
      return `sent ${purgedSent.get(m.id) ?? 0}${again > 0 ? `, sent again on request: sent ${again}` : ''}`;
    }
    const statuses = outbox.filter((o) => o.mailing_id === m.id).map((o) => `${o.status} ${o.n}`);
    const copies = outbox.filter((o) => o.mailing_id !== m.id && mailingOf(o.mailing_id).mailingId === m.id);
    const summed = new Map<string, number>();
    for (const c of copies) summed.set(c.status, (summed.get(c.status) ?? 0) + c.n);
    if (summed.size > 0) statuses.push(`sent again on request: ${[...summed].map(([status, n]) => `${status} ${n}`).join(', ')}`);
    if (statuses.length > 0) return statuses.join(', ');
    if (survey.closed_at) return 'not sent (closed)';
    return m.sendAt <= ctx.config.now() ? 'due' : 'planned';
  };
  io.out(`${'mailing'.padEnd(12)} ${'kind'.padEnd(11)} ${'planned'.padEnd(24)} status`);
  for (const m of plan.mailings) {
    io.out(`${m.id.padEnd(12)} ${m.kind.padEnd(11)} ${when(m.sendAt, tz).padEnd(24)} ${status(m)}`);
    if (m.only) io.out(`${''.padEnd(37)}(only for ${partOfSample(m.only)})`);
    for (const move of m.moves) io.out(`${''.padEnd(37)}(${move})`);
  }
  const problems = await deliveryProblems(db, survey.id);
  if (problems.length > 0) {
    io.out('');
    io.out('not delivered, per domain and reply (failed: given up; retrying: tried again later):');
    const domainWidth = Math.max(...problems.map((p) => p.domain.length));
    for (const p of problems) io.out(`${p.status.padEnd(9)} ${String(p.mails).padStart(6)}  ${p.domain.padEnd(domainWidth)}  ${p.reply}`);
  }
  if (survey.closed_at) {
    io.out('');
    io.out('the survey is closed: no more mail goes out');
    return 0;
  }

  // Who each mailing would reach if it were queued now: the rule the sender queues by.
  const invitation = plan.mailings.find((m) => m.kind === 'invitation')!;
  const strata = definition.sample.strata;
  const rows = new Map<string, number[]>();
  for (const [i, m] of plan.mailings.entries()) {
    for (const { sample, n } of await audienceBySample(db, survey.id, m, invitation.id)) {
      const values = JSON.parse(sample) as Record<string, string>;
      const key = strata.length > 0 ? strata.map((s) => values[s] ?? '-').join(' / ') : 'all';
      const counts = rows.get(key) ?? plan.mailings.map(() => 0);
      counts[i]! += n;
      rows.set(key, counts);
    }
  }
  const invitees = await db.selectFrom('invitees').select((eb) => eb.fn.countAll<number>().as('n')).where('survey_id', '=', survey.id).executeTakeFirstOrThrow();
  io.out('');
  io.out(`would reach now (dry run; nothing is sent), per ${strata.join(' / ') || 'survey'}:`);
  const width = Math.max(12, ...[...rows.keys()].map((k) => k.length)) + 2;
  io.out(`${''.padEnd(width)}${plan.mailings.map((m) => m.id.padStart(12)).join('')}`);
  const totals = plan.mailings.map(() => 0);
  for (const [key, counts] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
    io.out(`${key.padEnd(width)}${counts.map((c) => String(c).padStart(12)).join('')}`);
    counts.forEach((c, i) => (totals[i]! += c));
  }
  io.out(`${'total'.padEnd(width)}${totals.map((c) => String(c).padStart(12)).join('')}`);
  io.out(`${Number(invitees.n)} invitees`);
  return 0;
}

export async function previewCommand(ctx: CliContext, surveyArg: string, options: { mailing?: string; invitee?: string; out?: string; sendTo?: string }): Promise<number> {
  if (options.sendTo !== undefined && !isEmailAddress(options.sendTo)) {
    ctx.io.err(`--send-to: "${options.sendTo}" is not an email address`);
    return 2;
  }
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const { io, config } = ctx;
  let invitee;
  if (options.invitee !== undefined) {
    invitee = await findInviteeByEmail(ctx.db, survey.id, options.invitee);
    if (!invitee) {
      io.err(`${options.invitee} is not invited to survey ${survey.id}${survey.purged_at ? ' (its contact data was purged)' : ''}`);
      return 1;
    }
  }
  const { transport, templates } = createMailer(config.mail!);
  try {
    const previews = previewMailings(templates, survey, { ...(options.mailing !== undefined ? { mailingId: options.mailing } : {}), ...(invitee ? { invitee } : {}), publicUrl: config.publicUrl, now: config.now() });
    const tz = planOf(survey).plan.timezone;
    io.out(
      `${survey.id}: ${previews.length === 1 ? 'mailing' : 'mailings'} as sent to ${invitee ? invitee.email : 'a sample invitee'}; ` +
        `the link (${config.publicUrl}/s/${PREVIEW_TOKEN}) and the code (${formatCode(PREVIEW_CODE)}) are placeholders that open nothing`,
    );
    if (options.out === undefined && options.sendTo === undefined) {
      for (const { mailing, rendered } of previews) {
        io.out('');
        io.out(`== ${mailing.id} (${mailing.kind}), planned ${when(mailing.sendAt, tz)} ==`);
        io.out(`From: ${rendered.from}`);
        io.out(`To: ${rendered.to.name ? `${rendered.to.name} <${rendered.to.address}>` : rendered.to.address}`);
        if (rendered.replyTo) io.out(`Reply-To: ${rendered.replyTo}`);
        io.out(`Subject: ${rendered.subject}`);
        io.out('');
        io.out(rendered.text.trimEnd());
      }
    }
    if (options.out !== undefined) {
      mkdirSync(options.out, { recursive: true });
      for (const { mailing, rendered, mail } of previews) {
        const eml = join(options.out, `${mailing.id}.eml`);
        const html = join(options.out, `${mailing.id}.html`);
        writeFileSync(eml, mail.message.raw);
        writeFileSync(html, rendered.html);
        io.out(`${eml}: the whole message (open it in a mail program); ${html}: its HTML part (open it in a browser)`);
      }
    }
    if (options.sendTo !== undefined) {
      for (const preview of previews) {
        await sendTestMail(transport, preview, options.sendTo, config.now());
        io.out(`sent ${preview.mailing.id} to ${options.sendTo} as a test ("[Test] ${preview.rendered.subject}"), through ${transport.description}`);
        await audit(ctx.db, { actor: cliActor(), action: 'test mail sent', surveyId: survey.id, detail: `${preview.mailing.id} to ${options.sendTo}` }, config.now());
      }
    }
    return 0;
  } catch (e) {
    // A template edited since survey create, the mail server unreachable, or its refusal.
    if (e instanceof TemplateError || e instanceof MailUnavailableError || typeof (e as { responseCode?: unknown }).responseCode === 'number') {
      io.err(`${survey.id}: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  } finally {
    transport.close();
  }
}

export async function sendCommand(ctx: CliContext, surveyArg: string, options: { limit?: number; interruptedAfter?: number }): Promise<number> {
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const { transport, templates } = createMailer(ctx.config.mail!);
  // Ctrl-C (or SIGTERM) ends the run after the mail in flight; the rest stays queued. A second
  // Ctrl-C ends the process at once, which the outbox survives as it survives kill -9.
  const signal = stopSignal();
  const stop = () => {
    signal.stop();
    ctx.io.err('stopping after the mail in flight; the rest stays queued (Ctrl-C again to stop at once)');
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const log = {
    info: (details: object, message: string) => ctx.io.out(`${message} ${JSON.stringify(details)}`),
    warn: (details: object, message: string) => ctx.io.err(`warning: ${message} ${JSON.stringify(details)}`),
  };
  try {
    const report = await runFieldwork(
      {
        db: ctx.db,
        secrets: ctx.secrets,
        transport,
        templates,
        questionnaires: ctx.questionnaires,
        publicUrl: ctx.config.publicUrl,
        now: ctx.config.now,
        sleep: signal.sleep,
        log,
        // Not 0: a server sending at the same time may be in the middle of one of these mails.
        staleClaimMs: (options.interruptedAfter ?? 60) * 1000,
        stopping: signal.stopping,
        ...(ctx.config.mail?.bounces && { returnPaths: returnPaths(ctx.secrets, ctx.config.mail.bounces.address) }),
      },
      { surveyId: survey.id, ...(options.limit !== undefined ? { sendLimit: options.limit } : {}) },
    );
    ctx.io.out(
      `${survey.id}: sent ${report.sent}, skipped ${report.skipped}, retry later ${report.retried}, bounced ${report.bounced}, failed ${report.failed}` +
        `${report.resent ? `, ${report.resent} resent after an interrupted run` : ''} (to ${transport.description})`,
    );
    const cannot = report.unavailable ?? report.unrenderable[survey.id];
    if (cannot) {
      const due = await countDue(ctx.db, survey.id, ctx.config.now());
      ctx.io.err(`mail cannot go out: ${cannot}`);
      ctx.io.err(`${due} due mail${due === 1 ? '' : 's'} wait${due === 1 ? 's' : ''} and go${due === 1 ? 'es' : ''} out on the next run; no invitee was marked bounced`);
      return 1;
    }
    const waiting = report.waiting[survey.id];
    if (waiting) {
      const tz = planOf(survey).plan.timezone;
      ctx.io.out(`${waiting.due} due mail${waiting.due === 1 ? '' : 's'} wait${waiting.due === 1 ? 's' : ''} for the send window, which opens ${when(waiting.opensAt, tz)}`);
    }
    if (signal.stopping()) {
      ctx.io.err(`stopped: ${await countDue(ctx.db, survey.id, ctx.config.now())} due mails wait for the next run`);
      return 130;
    }
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    transport.close();
  }
}

/** After a refusal or not eligible: answers in progress stay (a partial response at close), unless withdrawn. */
async function noteAnswersInProgress(ctx: CliContext, surveyId: string, email: string, invitee: InviteeRow, disposition: string): Promise<void> {
  if (!(await hasAnswersInProgress(ctx.db, ctx.secrets, invitee))) return;
  ctx.io.out(
    `${email} has answered part of the questionnaire: those answers stay, and at close become a partial response if they passed the counting rule. ` +
      `If the invitee asked for them to be deleted: survey mark ${surveyId} ${email} ${disposition} --withdraw-answers`,
  );
}

export async function markCommand(ctx: CliContext, surveyArg: string, email: string, disposition: string, options: { withdrawAnswers?: boolean } = {}): Promise<number> {
  if (disposition !== 'not-eligible' && disposition !== 'refused') {
    ctx.io.err(`unknown disposition "${disposition}": use not-eligible or refused`);
    return 2;
  }
  const found = await resolveInvitee(ctx, surveyArg, email);
  if (!found) return 1;
  const { survey, invitee } = found;
  const state = disposition === 'refused' ? 'refused' : 'not_eligible';
  const withdrawAnswers = options.withdrawAnswers === true;
  const { changed, withdrawn } = await recordDisposition(ctx.db, ctx.secrets, invitee, state, ctx.config.now(), { withdrawAnswers });
  if (!changed && !withdrawn) {
    if (await hasSubmitted(ctx.db, ctx.secrets, invitee)) {
      ctx.io.err(`${email} has completed the questionnaire; cannot mark ${disposition}`);
      return 1;
    }
    ctx.io.err(`${email} is ${invitee.state}; cannot mark ${disposition}${withdrawAnswers ? ', and there are no answers in progress to withdraw' : ''}`);
    return 1;
  }
  if (changed) ctx.io.out(`${email}: ${invitee.state} -> ${state}; no more mail goes out to this address`);
  if (withdrawn) {
    ctx.io.out(`${email}: the answers in progress were deleted; they will not become a partial response`);
    // By invitee number, not address: the audit log outlives the contact data (survey purge).
    await audit(ctx.db, { actor: cliActor(), action: 'answers withdrawn', surveyId: survey.id, detail: `invitee ${invitee.id}` }, ctx.config.now());
  } else await noteAnswersInProgress(ctx, survey.id, email, { ...invitee, state }, disposition);
  return 0;
}

export async function markListCommand(ctx: CliContext, surveyArg: string, file: string, disposition: string): Promise<number> {
  if (disposition !== 'not-eligible' && disposition !== 'refused') {
    ctx.io.err(`unknown disposition "${disposition}": use not-eligible or refused`);
    return 2;
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    ctx.io.err(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    return 1;
  }
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const state = disposition === 'refused' ? 'refused' : 'not_eligible';
  const outcome = await markList(ctx.db, ctx.secrets, survey, text, state, ctx.config.now());
  if ('problems' in outcome) {
    for (const p of outcome.problems) ctx.io.err(`${file}:${p.line}: ${p.message}`);
    ctx.io.err(`nothing was marked: ${plural(outcome.problems.length, 'problem', 'problems')}`);
    return 1;
  }
  ctx.io.out(`${survey.id}: ${plural(outcome.marked, 'invitee', 'invitees')} marked ${disposition}${outcome.already > 0 ? ` (${outcome.already} already were)` : ''}; no more mail goes out to them`);
  if (outcome.inProgress > 0) {
    ctx.io.out(
      `${plural(outcome.inProgress, 'of them has', 'of them have')} answered part of the questionnaire: those answers stay, and at close become a partial response if they passed the counting rule. ` +
        `If someone asked for theirs to be deleted: survey mark ${survey.id} <email> ${disposition} --withdraw-answers`,
    );
  }
  await audit(ctx.db, { actor: cliActor(), action: 'dispositions marked', surveyId: survey.id, detail: `${outcome.marked} invitees: ${disposition}` }, ctx.config.now());
  return 0;
}

export async function retryCommand(ctx: CliContext, surveyArg: string, options: { domain?: string; email?: string }): Promise<number> {
  if ((options.domain === undefined) === (options.email === undefined)) {
    ctx.io.err('say whose mail to retry: --domain <domain> or --email <address> (one of them)');
    return 2;
  }
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const target = options.domain !== undefined ? { domain: options.domain } : { email: options.email! };
  const where = options.domain !== undefined ? `at ${options.domain}` : `for ${options.email}`;
  const { unbounced, requeued } = await retryUndelivered(ctx.db, survey, target, ctx.config.now());
  if (unbounced === 0 && requeued === 0) {
    ctx.io.err(`nothing to retry ${where}: no mail was given up on and nobody was marked bounced`);
    return 1;
  }
  ctx.io.out(`${survey.id} ${where}: ${plural(unbounced, 'invitee', 'invitees')} no longer bounced, ${plural(requeued, 'mail', 'mails')} queued again; they go out on the next send (survey send ${survey.id}, or the server's sender), within the send window`);
  // A domain names an organisation; an address would outlive the contact data (survey purge).
  const detail = options.domain !== undefined ? `domain ${options.domain}` : 'one address';
  await audit(ctx.db, { actor: cliActor(), action: 'undelivered mail retried', surveyId: survey.id, detail: `${detail}: ${plural(requeued, 'mail', 'mails')}` }, ctx.config.now());
  return 0;
}

export async function callListCommand(ctx: CliContext, surveyArg: string, options: { withPhone?: boolean; notCalledSince?: string; out?: string }): Promise<number> {
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const { csv: list, rows } = await callList(ctx.db, survey, ctx.config.now(), {
    withPhone: options.withPhone === true,
    ...(options.notCalledSince !== undefined ? { notCalledSince: options.notCalledSince } : {}),
  });
  if (options.out !== undefined) {
    // With a byte order mark: a spreadsheet then reads the accents in names as UTF-8.
    writeFileSync(options.out, `\uFEFF${list}`);
    const which = ['not responded', ...(options.withPhone ? ['with a phone number'] : []), ...(options.notCalledSince ? [`not called since ${options.notCalledSince} or due to be called back`] : [])];
    ctx.io.out(`${options.out}: ${plural(rows, 'invitee', 'invitees')} to call (${which.join(', ')}); no codes on it: read one out with survey code ${survey.id} <email>`);
  } else ctx.io.out(list.trimEnd());
  // Contact data leaves the system: noted, by count.
  await audit(ctx.db, { actor: cliActor(), action: 'call list', surveyId: survey.id, detail: plural(rows, 'invitee', 'invitees') }, ctx.config.now());
  return 0;
}

export async function callCommand(ctx: CliContext, surveyArg: string, email: string, outcome: string, options: { callBack?: string; note?: string; phone?: string }): Promise<number> {
  if (!(CALL_OUTCOMES as readonly string[]).includes(outcome)) {
    ctx.io.err(`unknown call outcome "${outcome}": use ${CALL_OUTCOMES.join(', ')}`);
    return 2;
  }
  const found = await resolveInvitee(ctx, surveyArg, email);
  if (!found) return 1;
  const { survey, invitee } = found;
  const call = {
    outcome: outcome as CallOutcome,
    ...(options.callBack !== undefined ? { callBackOn: options.callBack } : {}),
    ...(options.note !== undefined ? { note: options.note } : {}),
    ...(options.phone !== undefined ? { phone: options.phone } : {}),
  };
  const { calls, stateBefore } = await recordCall(ctx.db, survey, invitee, call, ctx.config.now());
  ctx.io.out(`${email}: ${outcome}${options.callBack ? `, call back on ${options.callBack}` : ''} (${plural(calls, 'call', 'calls')} so far)`);
  if (options.phone !== undefined) ctx.io.out(`${email}: phone ${invitee.phone ?? '(none)'} -> ${options.phone.trim()}`);
  else if (outcome === 'wrong-number' && invitee.phone) ctx.io.out(`${email}: phone ${invitee.phone} taken off the call list (kept in the call's note)`);
  if (stateBefore) {
    const state = outcome === 'refused' ? 'refused' : 'not_eligible';
    ctx.io.out(`${email}: ${stateBefore} -> ${state}; no more mail goes out to this address`);
    await noteAnswersInProgress(ctx, survey.id, email, { ...invitee, state }, outcome);
    if (outcome === 'refused' && definitionOf(survey).nonResponse) ctx.io.out(`ask the non-response questions, and record the answers: survey nonresponse ${survey.id} ${email} (without answers it lists the questions)`);
  } else if (invitee.state === 'refused' && outcome === 'will-respond') {
    ctx.io.out(`they had said they do not take part: read out their code (survey code ${survey.id} ${email}); the questionnaire asks them to confirm that they do take part after all`);
  } else if (outcome === 'will-respond') {
    ctx.io.out(`if they cannot find the invitation: survey resend ${survey.id} ${email}, or read out their code (survey code ${survey.id} ${email})`);
  }
  // By invitee number, not address: the audit log outlives the contact data (survey purge).
  await audit(ctx.db, { actor: cliActor(), action: 'call recorded', surveyId: survey.id, detail: `invitee ${invitee.id}: ${outcome}` }, ctx.config.now());
  return 0;
}

export async function nonResponseCommand(ctx: CliContext, surveyArg: string, email: string, answers: string[]): Promise<number> {
  const found = await resolveInvitee(ctx, surveyArg, email);
  if (!found) return 1;
  const { survey, invitee } = found;
  if (answers.length === 0) {
    // The questions to read out, and the codes to type.
    for (const q of nonResponseQuestions(survey)) {
      ctx.io.out(`${q.id}: ${q.text}`);
      for (const o of q.options) ctx.io.out(`  ${q.id}=${o.code}  ${o.label}`);
    }
    return 0;
  }
  const recorded = await recordNonResponseInterview(ctx.db, survey, invitee, answers, ctx.config.now());
  ctx.io.out(`${email}: non-response interview recorded (${Object.entries(recorded).map(([q, o]) => `${q}=${o}`).join(', ')}), apart from their contact data and linked to nobody`);
  // By invitee number, never the answers: the audit log must not link them to anyone.
  await audit(ctx.db, { actor: cliActor(), action: 'non-response interview recorded', surveyId: survey.id, detail: `invitee ${invitee.id}` }, ctx.config.now());
  return 0;
}

export async function codeCommand(ctx: CliContext, surveyArg: string, email: string): Promise<number> {
  const found = await resolveInvitee(ctx, surveyArg, email);
  if (!found) return 1;
  const { survey, invitee } = found;
  const { code, token } = codeFor(ctx.secrets, survey, invitee, ctx.config.now());
  const { publicUrl } = ctx.config;
  ctx.io.out(`${email} (${invitee.state}): type code ${formatCode(code)} at ${publicUrl}/, or open ${publicUrl}/s/${token}`);
  if (invitee.state === 'refused') ctx.io.out('they said they do not take part: the questionnaire asks them to confirm that they do take part after all');
  // By invitee number: the audit log outlives the contact data (survey purge).
  await audit(ctx.db, { actor: cliActor(), action: 'code looked up', surveyId: survey.id, detail: `invitee ${invitee.id}` }, ctx.config.now());
  return 0;
}

export async function resendCommand(ctx: CliContext, surveyArg: string, email: string, options: { mailing?: string }): Promise<number> {
  const found = await resolveInvitee(ctx, surveyArg, email);
  if (!found) return 1;
  const { survey, invitee } = found;
  const { mailingId, copy } = await resendMail(ctx.db, survey, invitee, options.mailing, ctx.config.now());
  ctx.io.out(`${email}: ${mailingId} queued again (copy ${copy}), with their link and code; it goes out on the next send within the send window (the server's sender, or survey send ${survey.id})`);
  // By invitee number: the audit log outlives the contact data (survey purge).
  await audit(ctx.db, { actor: cliActor(), action: 'mail resent', surveyId: survey.id, detail: `invitee ${invitee.id}: ${mailingId}` }, ctx.config.now());
  return 0;
}

export async function addressCommand(ctx: CliContext, surveyArg: string, email: string, newEmail: string): Promise<number> {
  const found = await resolveInvitee(ctx, surveyArg, email);
  if (!found) return 1;
  const { survey, invitee } = found;
  const { unbounced, requeued } = await correctAddress(ctx.db, survey, invitee, newEmail, ctx.config.now());
  const corrected = normalizeEmail(newEmail) ?? newEmail.trim().toLowerCase();
  ctx.io.out(
    `${email} -> ${corrected}` +
      (unbounced > 0 ? `: no longer bounced; ${plural(requeued, 'mail', 'mails')} queued again to the new address, going out on the next send within the send window` : '; mail still to go out goes to the new address'),
  );
  await audit(ctx.db, { actor: cliActor(), action: 'address corrected', surveyId: survey.id, detail: `invitee ${invitee.id}` }, ctx.config.now());
  return 0;
}

export async function closeCommand(ctx: CliContext, surveyArg: string): Promise<number> {
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const questionnaire = await ctx.questionnaires.byHash(survey.questionnaire_hash);
  const released = await closeSurvey(ctx.db, ctx.secrets, survey, questionnaire, ctx.config.now());
  ctx.io.out(`${survey.id}: closed; codes no longer open the questionnaire. ${released.partial} unfinished questionnaires kept as partial responses (counting rule), ${released.discarded} discarded.`);
  return 0;
}

export async function purgeCommand(ctx: CliContext, surveyArg: string, options: { yes?: boolean }): Promise<number> {
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  if (!options.yes) {
    ctx.io.err(`purge removes all contact data of ${survey.id} for good (counts per stratum remain). Run again with --yes to do it.`);
    return 1;
  }
  const purged = await purgeSurvey(ctx.db, survey, ctx.config.now());
  ctx.io.out(`${survey.id}: contact data of ${purged.invitees} invitees removed; counts kept for ${purged.strata} strata.`);
  if (ctx.config.mail && removeSurveyMailFiles(ctx.config.mail.dir, survey.id)) ctx.io.out(`${survey.id}: its .eml files in ${ctx.config.mail.dir} removed.`);
  return 0;
}

const STATUS_COLUMNS: [string, (r: StatusRow) => number | string | undefined][] = [
  ['invited', (r) => r.invited],
  ['bounced', (r) => r.bounced],
  ['opened', (r) => r.opened],
  ['started', (r) => r.started],
  ['partial', (r) => r.partial],
  ['complete', (r) => r.complete],
  ['refused', (r) => r.refused],
  ['not_eligible', (r) => r.notEligible],
  ['population', (r) => r.population],
  ['response_invited', (r) => r.responseOfInvited],
  ['response_population', (r) => r.responseOfPopulation],
  ['RR1', (r) => r.rates.RR1],
  ['RR2', (r) => r.rates.RR2],
  ['COOP1', (r) => r.rates.COOP1],
  ['REF1', (r) => r.rates.REF1],
  ['CON1', (r) => r.rates.CON1],
  ['moe95', (r) => r.marginOfError],
  ['flag', (r) => r.flag],
];
const SHARES = new Set(['response_invited', 'response_population', 'RR1', 'RR2', 'COOP1', 'REF1', 'CON1', 'moe95']);

function rowLabel(r: StatusRow): string {
  if (r.kind === 'total') return 'total';
  return r.kind === 'subtotal' ? `${stratumLabel(r.stratum)} (subtotal)` : stratumLabel(r.stratum);
}

/** A title, then columns aligned: the first to the left, the rest (numbers) to the right. */
function printTable(ctx: CliContext, headers: string[], body: string[][], title: string): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  ctx.io.out(title);
  ctx.io.out(line(headers));
  for (const b of body) ctx.io.out(line(b));
}

export async function statusCommand(ctx: CliContext, surveyArg: string, format: string, options: { by?: string } = {}): Promise<number> {
  if (!['table', 'csv', 'json'].includes(format)) {
    ctx.io.err(`unknown format "${format}": use table, csv or json`);
    return 2;
  }
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const by = options.by?.split(',');
  const rows = by ? await surveyStatusBy(ctx.db, survey, await ctx.questionnaires.byHash(survey.questionnaire_hash), by) : await surveyStatus(ctx.db, survey);
  if (format === 'json') {
    ctx.io.out(JSON.stringify(rows, null, 2));
    return 0;
  }
  if (format === 'csv') {
    // Through the one CSV writer: a free stratum value (=HYPERLINK(…)) is text, never a formula.
    const body = rows.map((r) => [
      rowLabel(r),
      ...STATUS_COLUMNS.map(([name, get]) => {
        const v = get(r);
        return typeof v === 'number' && SHARES.has(name) ? v.toFixed(4) : v;
      }),
    ]);
    for (const line of csv([['stratum', ...STATUS_COLUMNS.map(([name]) => name)], ...body]).trimEnd().split('\n')) ctx.io.out(line);
    return 0;
  }
  // A table as the reports print it: percentages, margin of error with one decimal.
  const show = (name: string, v: number | string | undefined): string => {
    if (v === undefined) return '-';
    if (typeof v === 'string') return v;
    if (name === 'moe95') return `${percent(v, 1)!.toFixed(1)}`;
    if (SHARES.has(name)) return `${percent(v)}%`;
    return String(v);
  };
  const headers = ['stratum', ...STATUS_COLUMNS.map(([name]) => name)];
  const body = rows.map((r) => [rowLabel(r), ...STATUS_COLUMNS.map(([name, get]) => show(name, get(r)))]);
  printTable(ctx, headers, body, `${survey.id}: response per ${(by ? [...new Set(by.map((f) => f.trim()))] : definitionOf(survey).sample.strata).join(' / ') || 'survey'}${survey.purged_at ? ' (from the counts kept at purge)' : ''}`);
  ctx.io.out('response = complete + partial (counting rule); moe95 = 95% margin of error in points, finite-population corrected; flag: n < 30 onvoldoende betrouwbaar, n < 50 indicatief');
  const phoning = by ? undefined : await phoningProgress(ctx.db, survey, ctx.config.now());
  if (phoning) {
    const phoningHeaders = ['stratum', 'to_call', 'called', ...CALL_OUTCOMES, 'call_back_due', 'responded_since'];
    const phoningBody = phoning.map((r) => [r.kind === 'total' ? 'total' : stratumLabel(r.stratum), ...[r.toCall, r.called, ...CALL_OUTCOMES.map((o) => r.lastCall[o]), r.callBackDue, r.respondedSince].map(String)]);
    printTable(ctx, phoningHeaders, phoningBody, `\nphoning per ${definitionOf(survey).sample.strata.join(' / ') || 'survey'}`);
    ctx.io.out('called: at least once, with the outcome of the last call in the next columns; to_call: can still respond, has a number, never called; responded_since: of those called, on or after the day of the first call');
  }
  const nonResponse = by ? undefined : await nonResponseSummary(ctx.db, survey);
  if (nonResponse) {
    ctx.io.out(`\ntelephone non-response survey: ${plural(nonResponse.n, 'interview', 'interviews')}`);
    for (const q of nonResponse.questions) {
      const body = q.options.map((o) => [`${o.code} (${o.label})`, String(o.n), o.share === undefined ? '-' : `${percent(o.share)}%`]);
      printTable(ctx, ['option', 'n', 'share'], body, `${q.id}: ${q.text}`);
    }
  }
  return 0;
}

export async function exportCommand(ctx: CliContext, surveyArg: string, format: string, outDir: string | undefined, options: { keepSmallStrata?: boolean } = {}): Promise<number> {
  if (format !== 'all' && !(format in EXPORT_FORMATS)) {
    ctx.io.err(`unknown format "${format}": use ${Object.keys(EXPORT_FORMATS).join(', ')} or all`);
    return 2;
  }
  if (format === 'all' && !outDir) {
    ctx.io.err('--format all writes several files: give a folder with --out');
    return 2;
  }
  const survey = await resolveSurvey(ctx, surveyArg);
  if (!survey) return 1;
  const formats = format === 'all' ? exportFormatsOf(survey) : [format as ExportFormat];
  const questionnaire = await ctx.questionnaires.byHash(survey.questionnaire_hash);
  if (outDir) mkdirSync(outDir, { recursive: true });
  for (const [i, f] of formats.entries()) {
    const result = await exportSurvey(ctx.db, survey, questionnaire, f, { keepSmallStrata: options.keepSmallStrata === true });
    // The same for every file; said once.
    if (i === 0) for (const note of result.notes) ctx.io.err(`note on the weights: ${note}`);
    if (i === 0) for (const note of result.strataNotes ?? []) ctx.io.err(`note on the carried strata: ${note}`);
    if (outDir) {
      const file = join(outDir, result.fileName);
      writeFileSync(file, result.body);
      ctx.io.out(`${file}: ${EXPORT_FORMATS[f].description}, ${result.responses} responses`);
    } else {
      ctx.io.out(result.body.trimEnd());
    }
  }
  await audit(ctx.db, { actor: cliActor(), action: 'export', surveyId: survey.id, detail: formats.join(', ') + (options.keepSmallStrata ? ' (small strata kept)' : '') }, ctx.config.now());
  return 0;
}
