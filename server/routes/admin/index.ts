// /admin: sign-in, the surveys, the dashboard per survey, exports (analyst role) and the audit
// log. Every page needs a session; every form carries a CSRF token; sign-in is rate-limited;
// every action is written to the audit log.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { findAccount, type AdminAccount } from '../../db/admin-accounts.ts';
import { audit, recentAudit } from '../../db/audit.ts';
import { getSurvey } from '../../db/surveys.ts';
import { partOfSample } from '../../domain/survey/calendar.ts';
import { isSmall, percent, shownCount } from '../../domain/metrics/index.ts';
import { adminText, fill, type AdminText } from '../../i18n/admin.ts';
import { FailedAttempts } from '../../security/failed-attempts.ts';
import { HashingBusyError, verifyPassword } from '../../security/passwords.ts';
import { buildDashboard, type Dashboard, type MailingState } from '../../usecases/dashboard.ts';
import type { WeightTable } from '../../domain/survey/weighting.ts';
import { EXPORT_FORMATS, exportFormatsOf, exportSurvey, type ExportFormat } from '../../usecases/exports.ts';
import { stratumLabel, type StatusRow } from '../../usecases/status.ts';
import { surveyOverview } from '../../usecases/overview.ts';
import { CALL_OUTCOMES } from '../../usecases/phoning.ts';
import previewRoutes from './preview.ts';
import { responseCurveSvg } from './response-curve-svg.ts';
import { currentAccount, endAdminSession, startAdminSession } from './session.ts';

declare module 'fastify' {
  interface FastifyRequest {
    account?: AdminAccount;
  }
}

const LoginForm = z.object({ email: z.string().trim().toLowerCase().max(320), password: z.string().max(1024) });
const SurveyParams = z.object({ id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/) });
const ExportParams = SurveyParams.extend({ format: z.enum(Object.keys(EXPORT_FORMATS) as [ExportFormat, ...ExportFormat[]]) });

const textOf = (request: FastifyRequest): AdminText => adminText(request.cookies?.lang);

export default async function adminRoutes(app: FastifyInstance): Promise<void> {
  // Admin pages show response figures and who is signed in: no browser or proxy keeps a copy.
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith('/admin')) reply.header('cache-control', 'no-store');
  });

  // Failed sign-ins, per client address and per account (server/security/failed-attempts.ts): a
  // refused attempt costs no password hashing and writes no audit row, so a flood of forged
  // attempts cannot take the thread pool from respondents' saves.
  const loginFailures = new FailedAttempts({ max: app.config.loginAttemptsPerMinute ?? 5, windowMs: 60_000, now: app.config.now });
  const loginRateLimit = async (request: FastifyRequest, reply: FastifyReply) => {
    const email = LoginForm.safeParse(request.body).data?.email;
    const wait = Math.max(loginFailures.blockedFor(`address ${request.ip}`), email ? loginFailures.blockedFor(`account ${email}`) : 0);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw Object.assign(new Error('too many failed sign-ins'), { statusCode: 429 });
    }
  };
  const now = () => app.config.now();

  const signedIn = async (request: FastifyRequest, reply: FastifyReply) => {
    const account = await currentAccount(request);
    if (!account) return reply.code(303).redirect('/admin/login');
    request.account = account;
  };
  const analyst = async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.account?.role !== 'analyst') {
      // A refused attempt at response data is worth knowing about, as much as an export.
      await record(request, 'refused: analysts only', SurveyParams.safeParse(request.params).data?.id, request.routeOptions.url);
      const t = textOf(request);
      return reply.code(403).adminView('admin/message.hbs', { t, title: t.forbiddenTitle, text: t.forbiddenText, account: view(request.account, t) });
    }
  };
  const record = (request: FastifyRequest, action: string, surveyId?: string, detail?: string) =>
    audit(app.db, { actor: request.account?.email ?? 'anonymous', action, surveyId, detail }, now());

  app.get('/admin/login', async (request, reply) => {
    if (await currentAccount(request)) return reply.code(303).redirect('/admin');
    const t = textOf(request);
    return reply.adminView('admin/login.hbs', { t, pageTitle: t.signInTitle, csrfToken: reply.generateCsrf() });
  });

  app.post('/admin/login', { preHandler: [loginRateLimit, app.csrfProtection] }, async (request, reply) => {
    const t = textOf(request);
    const form = LoginForm.safeParse(request.body);
    const email = form.success ? form.data.email : '';
    const account = email ? await findAccount(app.db, email) : undefined;
    // The password is checked (against a decoy when there is no account) before anything else,
    // so the answer takes as long and says the same whether or not the account exists.
    let valid: boolean;
    try {
      valid = form.success && (await verifyPassword(form.data.password, account?.password_hash)) && account !== undefined && account.disabled_at === null;
    } catch (e) {
      if (!(e instanceof HashingBusyError)) throw e;
      // A flood of sign-ins: refused at once, without hashing or an audit row (passwords.ts).
      reply.header('retry-after', '10');
      return reply.code(503).adminView('admin/login.hbs', { t, pageTitle: t.signInTitle, csrfToken: reply.generateCsrf(), error: t.signInBusy, email });
    }
    if (!valid || !account) {
      loginFailures.fail(`address ${request.ip}`);
      if (email) loginFailures.fail(`account ${email}`);
      await audit(app.db, { actor: email || 'anonymous', action: 'sign-in failed' }, now());
      return reply.code(401).adminView('admin/login.hbs', { t, pageTitle: t.signInTitle, csrfToken: reply.generateCsrf(), error: t.signInFailed, email });
    }
    await startAdminSession(request, reply, account.email);
    await audit(app.db, { actor: account.email, action: 'signed in' }, now());
    return reply.code(303).redirect('/admin');
  });

  app.post('/admin/logout', { preHandler: [app.csrfProtection, signedIn] }, async (request, reply) => {
    await record(request, 'signed out');
    await endAdminSession(request, reply);
    return reply.code(303).redirect('/admin/login');
  });

  app.get('/admin', { preHandler: signedIn }, async (request, reply) => {
    const t = textOf(request);
    const stages = { 'not-open': t.notYetOpen, open: t.open, closed: t.closed, purged: t.purged };
    const rows = (await surveyOverview(app.db, now())).map((s) => ({ id: s.id, title: s.title, state: stages[s.stage], invited: s.invited, responses: s.responses }));
    return reply.adminView('admin/surveys.hbs', { t, pageTitle: t.surveysTitle, account: view(request.account, t), csrfToken: reply.generateCsrf(), surveys: rows });
  });

  app.get('/admin/surveys/:id', { preHandler: signedIn }, async (request, reply) => {
    const t = textOf(request);
    const params = SurveyParams.safeParse(request.params);
    const survey = params.success ? await getSurvey(app.db, params.data.id) : undefined;
    if (!survey) return reply.code(404).adminView('admin/message.hbs', { t, title: t.notFound, text: '', account: view(request.account, t) });
    const dashboard = await buildDashboard(app.db, survey, now());
    await record(request, 'viewed dashboard', survey.id);
    return reply.adminView('admin/dashboard.hbs', {
      t,
      pageTitle: survey.title,
      account: view(request.account, t),
      csrfToken: reply.generateCsrf(),
      survey: { id: survey.id, title: survey.title },
      ...dashboardView(dashboard, t),
      ledgerLag: survey.closed_at ? undefined : fill(t.ledgerLag, { k: app.ledgerMarks.batchSize(survey), n: app.ledgerMarks.waiting(survey.id) }),
      exports: request.account!.role === 'analyst' ? exportFormatsOf(survey).map((f) => ({ href: `/admin/surveys/${survey.id}/export/${f}`, label: t.exportNames[f] })) : undefined,
    });
  });

  app.get('/admin/surveys/:id/export/:format', { preHandler: [signedIn, analyst] }, async (request, reply) => {
    const params = ExportParams.safeParse(request.params);
    const survey = params.success ? await getSurvey(app.db, params.data.id) : undefined;
    if (!params.success || !survey || !exportFormatsOf(survey).includes(params.data.format)) {
      const t = textOf(request);
      return reply.code(404).adminView('admin/message.hbs', { t, title: t.notFound, text: '', account: view(request.account, t) });
    }
    const result = await exportSurvey(app.db, survey, await app.questionnaires.byHash(survey.questionnaire_hash), params.data.format);
    await record(request, 'export', survey.id, `${params.data.format}, ${result.responses} responses`);
    return reply
      .header('content-type', result.contentType)
      .header('content-disposition', `attachment; filename="${result.fileName}"`)
      .header('cache-control', 'no-store')
      .send(result.body);
  });

  // Questionnaire authors (analysts) preview any stored version as respondents will see it.
  await app.register(previewRoutes, {
    guards: [signedIn, analyst],
    listPage: (request: FastifyRequest, reply: FastifyReply, versions: unknown[]) => {
      const t = textOf(request);
      return reply.adminView('admin/preview-list.hbs', { t, pageTitle: t.previewTitle, account: view(request.account, t), csrfToken: reply.generateCsrf(), versions });
    },
  });

  app.get('/admin/audit', { preHandler: signedIn }, async (request, reply) => {
    const t = textOf(request);
    const entries = await recentAudit(app.db, 200);
    return reply.adminView('admin/audit.hbs', { t, pageTitle: t.auditTitle, account: view(request.account, t), csrfToken: reply.generateCsrf(), entries });
  });
}

function view(account: AdminAccount | undefined, t: AdminText) {
  return account ? { email: account.email, line: fill(t.signedInAs, { email: account.email, role: t.roles[account.role] }) } : undefined;
}

/** Cells with a target but no responses: left out of the weights, which are renormalised over the others. */
function emptyCells(weights: WeightTable, t: AdminText): string | undefined {
  const empty = weights.cells.filter((c) => c.weight === undefined && c.population > 0);
  if (empty.length === 0 || weights.cells.every((c) => c.responses === 0)) return undefined;
  const share = empty.reduce((s, c) => s + c.populationShare, 0);
  return fill(t.weightsEmpty, { cells: empty.map((c) => c.label).join(', '), share: `${(100 * share).toFixed(1)}%` });
}

function dashboardView(d: Dashboard, t: AdminText) {
  const k = d.minCell;
  const share = (v: number | undefined, numerator: number, decimals = 0): string => (v === undefined ? '–' : isSmall(numerator, k) ? '–' : `${percent(v, decimals)!.toFixed(decimals)}%`);
  const hasPopulation = d.status.some((r) => r.population !== r.invited);
  const row = (r: StatusRow) => ({
    label: r.kind === 'total' ? t.total : r.kind === 'subtotal' ? `${t.subtotal} ${stratumLabel(r.stratum)}` : stratumLabel(r.stratum),
    kind: r.kind,
    cells: [
      shownCount(r.invited, k),
      shownCount(r.bounced, k),
      shownCount(r.opened, k),
      shownCount(r.started, k),
      shownCount(r.partial, k),
      shownCount(r.complete, k),
      shownCount(r.refused, k),
      shownCount(r.notEligible, k),
      share(r.responseOfInvited, r.responses),
      ...(hasPopulation ? [String(r.population), share(r.responseOfPopulation, r.responses)] : []),
      share(r.rates.RR1, r.complete, 1),
      share(r.rates.RR2, r.responses, 1),
      share(r.rates.COOP1, r.complete, 1),
      share(r.rates.REF1, r.refused, 1),
      share(r.rates.CON1, r.responses, 1),
      isSmall(r.responses, k) || r.marginOfError === undefined ? '–' : percent(r.marginOfError, 1)!.toFixed(1),
    ],
    flag: r.flag === undefined ? '' : r.flag === 'indicatief' ? t.flags.indicative : t.flags['not-reliable'],
  });
  const headers = [t.invited, t.bounced, t.opened, t.started, t.partial, t.complete, t.refused, t.notEligible, t.responseOfInvited, ...(hasPopulation ? [t.population, t.responseOfPopulation] : []), 'RR1', 'RR2', 'COOP1', 'REF1', 'CON1', t.moe];
  // Mails per status; one being sent counts as queued.
  const outboxStatus = (counts: MailingState['outbox']): string =>
    (['sent', 'pending', 'skipped', 'failed'] as const)
      .map((s) => [s, (counts[s] ?? 0) + (s === 'pending' ? (counts.sending ?? 0) : 0)] as const)
      .filter(([, n]) => n > 0)
      .map(([s, n]) => `${t[s]} ${shownCount(n, k)}`)
      .join(', ');
  const curve = d.curve;
  const when = (date: Date) => new Intl.DateTimeFormat(t.htmlLang === 'en' ? 'en-GB' : 'nl-NL', { timeZone: 'Europe/Amsterdam', weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(date);
  return {
    headers,
    rows: d.status.map(row),
    suppressedNote: fill(t.suppressedNote, { k }),
    curve: curve && (curve.total || curve.series.length > 0)
      ? {
          svg: responseCurveSvg(curve, { title: t.curveTitle, total: t.total }),
          table: {
            headers: [t.date, ...(curve.total ? [t.total] : []), ...curve.series.map((s) => s.label)],
            rows: curve.days.map((day, i) => ({
              day,
              cells: [...(curve.total ? [curve.total] : []), ...curve.series].map((s) => `${percent(s.invited > 0 ? s.cumulative[i]! / s.invited : 0)}%`),
            })),
          },
        }
      : undefined,
    curveSuppressed: curve && curve.suppressed.length > 0 ? fill(t.curveSuppressed, { k, strata: curve.suppressed.join(', ') }) : undefined,
    mailings: d.mailings.map((m) => ({
      id: m.id,
      kind: m.kind,
      planned: when(m.sendAt),
      moves: m.moves,
      only: m.only ? `${t.onlyFor} ${partOfSample(m.only)}` : undefined,
      status: outboxStatus(m.outbox) || t.upcoming,
      resent: outboxStatus(m.resent) ? `${t.resent}: ${outboxStatus(m.resent)}` : undefined,
      reach: m.reach === undefined ? '' : shownCount(m.reach, k),
    })),
    phoning: d.phoning
      ? {
          headers: [t.toCall, t.called, ...CALL_OUTCOMES.map((o) => t.callOutcomes[o]), t.callBackDue, t.respondedSince],
          rows: d.phoning.map((r) => ({
            label: r.kind === 'total' ? t.total : stratumLabel(r.stratum),
            kind: r.kind,
            cells: [r.toCall, r.called, ...CALL_OUTCOMES.map((o) => r.lastCall[o]), r.callBackDue, r.respondedSince].map((n) => shownCount(n, k)),
          })),
        }
      : undefined,
    bouncesLater: d.bounces.hard + d.bounces.soft + d.bounces.refused > 0 ? fill(t.bouncesLater, { hard: shownCount(d.bounces.hard, k), soft: shownCount(d.bounces.soft, k), refused: shownCount(d.bounces.refused, k) }) : undefined,
    deliveryProblems: d.deliveryProblems.map((p) => ({ status: p.status === 'failed' ? t.failed : t.retrying, mails: shownCount(p.mails, k), domain: p.domain, reply: p.reply })),
    weights: d.weights
      ? {
          target: d.weights.target === 'population' ? t.weightsTargetPopulation : t.weightsTargetInvited,
          note: t.weightsNote,
          unweighted: d.weights.unweighted > 0 ? fill(t.weightsUnweighted, { n: shownCount(d.weights.unweighted, k) }) : undefined,
          empty: emptyCells(d.weights, t),
          cells: d.weights.cells.map((c) => ({
            label: c.label,
            population: String(c.population),
            responses: shownCount(c.responses, k),
            populationShare: `${(100 * c.populationShare).toFixed(1)}%`,
            responseShare: c.responseShare === undefined || isSmall(c.responses, k) ? '–' : `${(100 * c.responseShare).toFixed(1)}%`,
            weight: c.weight === undefined || isSmall(c.responses, k) ? '–' : c.weight.toFixed(2),
          })),
        }
      : undefined,
  };
}
