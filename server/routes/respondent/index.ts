// The respondent's pages: enter with a link or a typed code, answer page by page (POST, then
// redirect, so refresh and back never resubmit), finish once, or opt out.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { environment, renderText } from '../../domain/questionnaire/index.ts';
import { amsterdamDate } from '../../domain/survey/dates.ts';
import { unmarkRefused, type InviteeRow } from '../../db/invitees.ts';
import { fill, UI_LANGUAGES, uiText } from '../../i18n/ui.ts';
import { draftKeyFor, findInviteeByToken, findInviteeByTypedCode } from '../../usecases/invitations.ts';
import { loadRespondent, resumePage, situationOf, type Respondent, type Situation } from '../../usecases/answering.ts';
import { carriedPage, pageToShow, submitPage, type PageView } from '../../usecases/page-flow.ts';
import { hasAnswersInProgress, hasSubmitted, recordDisposition } from '../../usecases/refusal.ts';
import { contactOf, definitionOf } from '../../usecases/surveys.ts';
import { resendOnRequest } from '../../usecases/resend.ts';
import { audit } from '../../db/audit.ts';
import { isEmailAddress } from '../../domain/survey/addresses.ts';
import { closeDateText } from '../../domain/survey/dates.ts';
import { getSurvey, listOpenSurveys, type SurveyRow } from '../../db/surveys.ts';
import { endSessions, getDraft } from '../../db/drafts.ts';
import { bodyToForm, type FormValues } from '../../domain/questionnaire/form-values.ts';
import { buildItems, errorSummary, literalPiped, richText } from './page-view.ts';
import { endSession, endSessionForLater, leftForLater, noteWritten, readEndedSession, readSession, startSession, type SessionPayload } from './session.ts';
import { FailedAttempts } from '../../security/failed-attempts.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** On the questionnaire's routes: the respondent of the session (withRespondent). */
    respondent?: Respondent;
    respondentSession?: SessionPayload;
  }
}

type Route = { Params: Record<string, string>; Querystring: Record<string, string> };
type Request = FastifyRequest<Route>;

/** The language: ?lang= (remembered in a cookie), else the cookie, else Dutch. */
/** How long /lost takes to answer at least, whatever it found (see there). */
const LOST_ANSWER_MS = 200;

function languageOf(request: Request, reply: FastifyReply, available: readonly string[]): string {
  const asked = request.query.lang;
  if (asked && available.includes(asked)) {
    reply.setCookie('lang', asked, { path: '/', httpOnly: true, sameSite: 'lax', secure: request.server.config.secureCookies });
    return asked;
  }
  const remembered = request.cookies.lang;
  return remembered && available.includes(remembered) ? remembered : 'nl';
}

function languageSwitch(request: Request, lang: string, available: readonly string[]) {
  const other = available.find((l) => l !== lang);
  if (!other) return undefined;
  return { lang: other, label: uiText(lang).otherLanguageName, href: `${request.url.split('?')[0]}?lang=${other}` };
}

/** The form values a page posted after its session ended, as carried through the code page. */
function parseCarried(text: string): FormValues | undefined {
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    const form: FormValues = {};
    for (const [key, list] of Object.entries(value)) {
      if (!Array.isArray(list) || !list.every((v) => typeof v === 'string')) return undefined;
      form[key] = list as string[];
    }
    return form;
  } catch {
    return undefined;
  }
}

async function respondentOf(request: Request): Promise<Respondent | undefined> {
  const session = readSession(request);
  return session && loadRespondent(request.server.db, request.server.secrets, request.server.questionnaires, session);
}

export default async function respondentRoutes(app: FastifyInstance): Promise<void> {
  // Failed attempts at a code, per client address: one counter for every way of trying a code
  // (typed, link, opt-out link), so that a guesser cannot multiply their attempts by switching
  // between routes. Only failures count (server/security/failed-attempts.ts): many office holders
  // behind one address all open their valid links. Typed codes are the guessable kind; failures
  // from everyone together are limited too, and past that limit only links open (the link tokens
  // cannot be guessed), so that guessing from many addresses stays expensive.
  const perMinute = app.config.codeAttemptsPerMinute;
  const codeFailures = new FailedAttempts({ max: perMinute, windowMs: 60_000, now: app.config.now });
  const everyonesFailures = new FailedAttempts({ max: app.config.codeFailuresPerMinuteOverall ?? perMinute * 100, windowMs: 60_000, now: app.config.now });
  const refuseAfterFailures = (request: Request, reply: FastifyReply, typed: boolean) => {
    const wait = Math.max(codeFailures.blockedFor(request.ip), typed ? everyonesFailures.blockedFor('everyone') : 0);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      throw Object.assign(new Error('too many failed attempts at a code'), { statusCode: 429 });
    }
  };
  const codeRateLimit = async (request: Request, reply: FastifyReply) => refuseAfterFailures(request, reply, false);
  const typedCodeRateLimit = async (request: Request, reply: FastifyReply) => refuseAfterFailures(request, reply, true);
  const failedCode = (request: Request) => {
    codeFailures.fail(request.ip);
    everyonesFailures.fail('everyone');
  };
  // "No link or code any more?" sends mail: every request counts there, failed or not.
  const lostRateLimit = app.rateLimit({ max: perMinute, timeWindow: '1 minute' });

  // Pages hold a person's answers and a form that is only valid for the answers as they are now.
  // Stored, a browser shows them again on Back (or to the next user of a shared computer) as they
  // were, with an old version. Not stored, Back asks the server for the page as it is; a browser
  // that still restores it from its back/forward cache (Chromium may) posts a stale form, which
  // the 'stale' case below shows again rather than dropping what was changed.
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });

  const message = (request: Request, reply: FastifyReply, status: number, title: string, paragraphs: string[], extra: Record<string, unknown> = {}) => {
    const lang = languageOf(request, reply, UI_LANGUAGES);
    const ui = uiText(lang);
    return reply.code(status).view('pages/message.hbs', { ui, pageTitle: title, title, paragraphs, ...extra });
  };

  /**
   * A page with one field to fill in (the code, or an address): its title, the error at the field
   * (linked from the error summary), and what the form carries.
   */
  const oneFieldPage = (
    request: Request,
    reply: FastifyReply,
    status: number,
    page: { template: string; title: (ui: ReturnType<typeof uiText>) => string; field: string; languageSwitch: boolean },
    fields: Record<string, string | undefined> & { error?: string | undefined },
  ) => {
    const lang = languageOf(request, reply, UI_LANGUAGES);
    const ui = uiText(lang);
    return reply.code(status).view(page.template, {
      ui,
      pageTitle: page.title(ui),
      csrfToken: reply.generateCsrf(),
      errorSummary: fields.error ? [{ href: `#${page.field}`, message: fields.error }] : [],
      ...(page.languageSwitch ? { languageSwitch: languageSwitch(request, lang, UI_LANGUAGES) } : {}),
      ...fields,
    });
  };

  /** A survey as respondents know it: the questionnaire's title, and the organisation behind it. */
  const surveyNamed = async (survey: SurveyRow, sample: Record<string, string>, lang: string) => {
    const q = await app.questionnaires.byHash(survey.questionnaire_hash);
    return { surveyTitle: renderText(q, q.def.title, lang, environment(q, {}, sample)), organisation: contactOf(survey).organisation };
  };

  /** The start page names the survey when only one is open: most bureaus run one at a time. */
  const startPage = async (request: Request, reply: FastifyReply, status: number, fields: { error?: string; code?: string } = {}) => {
    const now = app.config.now();
    const open = (await listOpenSurveys(app.db)).filter((s) => Date.parse(s.opens_at) <= now.getTime() && now.getTime() < Date.parse(s.closes_at));
    const lang = languageOf(request, reply, UI_LANGUAGES);
    const named = open.length === 1 ? await surveyNamed(open[0]!, {}, lang) : undefined;
    const about = named ? fill(uiText(lang).surveyAbout, { survey: named.surveyTitle, organisation: named.organisation }) : undefined;
    return oneFieldPage(request, reply, status, { template: 'pages/start.hbs', title: (ui) => ui.startTitle, field: 'code', languageSwitch: true }, { ...fields, ...(named && { surveyTitle: named.surveyTitle, about }) });
  };

  /** Exchanges a code or link for a session and sends the browser on to a URL without it. */
  const enter = async (request: Request, reply: FastifyReply, invitee: InviteeRow) => {
    await noteOpened(invitee);
    await startSessionFor(request, reply, invitee.id, draftKeyFor(app.secrets, invitee));
    return reply.redirect('/q', 303);
  };

  /** A session in the draft's current round (a session ended with "later" stays ended); returns the round. */
  const startSessionFor = async (request: Request, reply: FastifyReply, invitee: number, draftKey: string): Promise<number> => {
    const round = (await getDraft(app.db, draftKey))?.session_round ?? 0;
    startSession(request, reply, invitee, draftKey, round);
    return round;
  };

  /** The ledger learns "opened" in a later batch (ledger-marks.ts), like everything a respondent does. */
  const noteOpened = async (invitee: InviteeRow) => {
    if (invitee.opened_on !== null) return;
    const survey = await getSurvey(app.db, invitee.survey_id);
    if (survey) await app.ledgerMarks.note({ inviteeId: invitee.id, survey, sample: JSON.parse(invitee.sample) as Record<string, string> }, 'opened', amsterdamDate(app.config.now()));
  };

  const situationPage = (request: Request, reply: FastifyReply, r: Respondent, situation: Exclude<Situation, 'answering'>) => {
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    const surveyTitle = renderText(r.questionnaire, r.questionnaire.def.title, 'nl', environment(r.questionnaire, {}, r.sample));
    const contact = contactOf(r.survey);
    switch (situation) {
      case 'completed':
        return message(request, reply, 200, ui.completedTitle, [ui.completedText], { surveyTitle, contact });
      case 'closed':
        return message(request, reply, 410, ui.closedTitle, [ui.closedText], { surveyTitle, contact });
      case 'not-open':
        return message(request, reply, 403, ui.notOpenTitle, [fill(ui.notOpenText, { date: amsterdamDate(new Date(r.survey.opens_at)) })], { surveyTitle, contact });
      case 'refused':
        // People change their mind (or clicked the opt-out by mistake): every response counts.
        return message(request, reply, 403, ui.refusedTitle, [ui.refusedText], {
          surveyTitle,
          contact,
          form: { action: '/q/take-part', csrfToken: reply.generateCsrf(), intro: ui.takePartIntro, button: ui.takePartButton },
        });
      case 'not-eligible':
        return message(request, reply, 403, ui.notEligibleTitle, [ui.notEligibleText], { surveyTitle, contact });
    }
  };

  const reenterPage = (request: Request, reply: FastifyReply, status: number, fields: { page: string; carried: string; error?: string }) =>
    oneFieldPage(request, reply, status, { template: 'pages/reenter.hbs', title: (ui) => ui.reenterTitle, field: 'code', languageSwitch: false }, fields);

  const expired = (request: Request, reply: FastifyReply) => {
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    if (leftForLater(request)) return message(request, reply, 401, ui.leftForLaterTitle, [ui.leftForLaterText], { link: { href: '/', label: ui.startTitle } });
    return message(request, reply, 401, ui.sessionExpiredTitle, [ui.sessionExpiredText], { link: { href: '/', label: ui.startTitle } });
  };

  /** A page of the questionnaire as the page flow decided it (usecases/page-flow.ts). */
  const renderPage = (request: Request, reply: FastifyReply, r: Respondent, view: PageView, status = 200) => {
    const { block, pages } = view;
    const q = r.questionnaire;
    const lang = languageOf(request, reply, q.languages);
    const ui = uiText(lang);
    const env = environment(q, view.before, r.sample);
    const ctx = { q, block, env, form: view.form, errors: view.errors, lang, ui };
    const items = buildItems(ctx);
    const position = pages.findIndex((p) => p.id === block.id);
    const pageTitle = block.def.title ? renderText(q, block.def.title, lang, env) : undefined;
    return reply.code(status).view('pages/page.hbs', {
      ui,
      surveyTitle: renderText(q, q.def.title, lang, env),
      contact: contactOf(r.survey),
      pageTitle,
      items,
      errorSummary: errorSummary(ctx, items),
      notice: view.notice ? ui[view.notice] : undefined,
      progress: { percent: view.progress, label: fill(ui.progress, { percent: view.progress }) },
      action: `/q/p/${block.id}`,
      version: view.version,
      csrfToken: reply.generateCsrf(),
      canGoBack: position > 0,
      isLast: position === pages.length - 1,
      languageSwitch: languageSwitch(request, lang, q.languages.filter((l) => UI_LANGUAGES.includes(l))),
    });
  };

  /**
   * The questionnaire's routes need the respondent of a valid session: loaded once, here, or the
   * page that says how to come back. A page posted after the session ran out waits, as posted, on
   * the page that asks for the code again, instead of being lost.
   */
  const withRespondent = async (request: Request, reply: FastifyReply) => {
    const session = readSession(request);
    const r = session && (await loadRespondent(app.db, app.secrets, app.questionnaires, session));
    if (r) {
      request.respondent = r;
      request.respondentSession = session;
      return;
    }
    if (request.method === 'POST' && request.routeOptions.url === '/q/p/:page' && readEndedSession(request)) {
      const carried = Object.fromEntries(Object.entries(bodyToForm(request.body)).filter(([key]) => !key.startsWith('_')));
      await reenterPage(request, reply, 401, { page: request.params.page ?? '', carried: JSON.stringify(carried) });
    } else await expired(request, reply);
    return reply;
  };
  const respondent = (request: Request): Respondent => request.respondent!;

  // Always the form: someone with an old session may want to enter another code.
  app.get<Route>('/', async (request: Request, reply) => startPage(request, reply, 200));

  app.post<Route>('/start', { onRequest: typedCodeRateLimit, preHandler: app.csrfProtection }, async (request: Request, reply) => {
    const typed = bodyToForm(request.body).code?.[0] ?? '';
    const invitee = await findInviteeByTypedCode(app.db, app.secrets, typed);
    if (invitee) return enter(request, reply, invitee);
    failedCode(request);
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    return startPage(request, reply, 400, { error: ui.codeUnknown, code: typed.slice(0, 40) });
  });

  // "No link or code any more?": the invitation again, to the address it went to (resend.ts). The
  // answer is the same whether or not the address is in a sample.
  const lostPage = (request: Request, reply: FastifyReply, status: number, fields: { error?: string; email?: string } = {}) =>
    oneFieldPage(request, reply, status, { template: 'pages/lost.hbs', title: (ui) => ui.lostTitle, field: 'email', languageSwitch: true }, fields);

  app.get<Route>('/lost', async (request: Request, reply) => lostPage(request, reply, 200));

  app.post<Route>('/lost', { onRequest: lostRateLimit, preHandler: app.csrfProtection }, async (request: Request, reply) => {
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    const email = (bodyToForm(request.body).email?.[0] ?? '').trim();
    if (!isEmailAddress(email.toLowerCase())) return lostPage(request, reply, 422, { error: ui.emailInvalid, email: email.slice(0, 254) });
    const now = app.config.now();
    const started = performance.now();
    for (const { surveyId, inviteeId } of await resendOnRequest(app.db, email, now)) {
      // By invitee number: the audit log outlives the contact data (survey purge).
      await audit(app.db, { actor: 'respondent (start page)', action: 'mail resent', surveyId, detail: `invitee ${inviteeId}: invitation, asked for on the start page` }, now);
    }
    // The same answer in the same time: queueing a copy takes longer than finding nobody, and that
    // difference must not tell who is in a sample.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, LOST_ANSWER_MS - (performance.now() - started))));
    return reply.redirect('/lost/sent', 303);
  });

  app.get<Route>('/lost/sent', async (request: Request, reply) => {
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    return message(request, reply, 200, ui.lostDoneTitle, [ui.lostDoneText], { link: { href: '/', label: ui.startTitle } });
  });

  app.get<Route>('/s/:token', { onRequest: codeRateLimit }, async (request: Request, reply) => {
    const invitee = await findInviteeByToken(app.db, app.secrets, request.params.token ?? '');
    if (invitee) return enter(request, reply, invitee);
    failedCode(request);
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    return startPage(request, reply, 404, { error: ui.linkUnknown });
  });

  app.get<Route>('/q', { preHandler: withRespondent }, async (request: Request, reply) => {
    const r = respondent(request);
    const situation = situationOf(r, app.config.now());
    if (situation !== 'answering') return situationPage(request, reply, r, situation);
    return reply.redirect(`/q/p/${resumePage(r).id}`, 303);
  });

  // Someone who said no takes part after all, with their own code (their session): back to invited
  // (or started), reminded like anyone who has not responded, and on to the questionnaire.
  app.post<Route>('/q/take-part', { preHandler: [app.csrfProtection, withRespondent] }, async (request: Request, reply) => {
    const r = respondent(request);
    if (situationOf(r, app.config.now()) === 'refused') await unmarkRefused(app.db, r.invitee.id);
    return reply.redirect('/q', 303);
  });

  app.get<Route>('/q/p/:page', { preHandler: withRespondent }, async function showPage(request: Request, reply) {
    const r = respondent(request);
    const shown = pageToShow(r, request.params.page ?? '', app.config.now());
    return shown.kind === 'show' ? renderPage(request, reply, r, shown.view) : reply.redirect('/q', 303);
  });

  app.post<Route>('/q/p/:page', { preHandler: [app.csrfProtection, withRespondent] }, async function postPage(request: Request, reply) {
    const r = respondent(request);
    const session = request.respondentSession!;
    const form = bodyToForm(request.body);
    const action = form._action?.[0];
    const posted = { form, version: Number(form._version?.[0]), action: action === 'previous' || action === 'later' ? action : 'next' } as const;
    const reload = () => loadRespondent(app.db, app.secrets, app.questionnaires, session);
    const outcome = await submitPage({ db: app.db, secrets: app.secrets, marks: app.ledgerMarks }, r, request.params.page ?? '', posted, session.wrote, app.config.now(), reload);
    switch (outcome.kind) {
      case 'elsewhere':
        return reply.redirect('/q', 303);
      case 'invalid':
        return renderPage(request, reply, r, outcome.view, 422);
      case 'conflict':
        return renderPage(request, reply, r, outcome.view, 409);
      case 'saved':
        noteWritten(request, reply, session, outcome.version);
        return reply.redirect(`/q/p/${outcome.next.id}`, 303);
      case 'stopped':
        noteWritten(request, reply, session, outcome.version);
        return reply.redirect('/q/saved', 303);
      case 'finished':
        return reply.redirect('/q/done', 303);
    }
  });

  // After "save and continue later": how to come back, and until when. The session ends here, so
  // that a shared computer does not keep the questionnaire open; the link or code resumes it.
  app.get<Route>('/q/saved', async (request: Request, reply) => {
    const r = await respondentOf(request);
    const lang = languageOf(request, reply, UI_LANGUAGES);
    const ui = uiText(lang);
    const paragraphs = [fill(ui.savedText, { startUrl: `${app.config.publicUrl}/` })];
    if (!r) return message(request, reply, 200, ui.savedTitle, paragraphs);
    // Ended here and for any copy of the cookie: a session started before opens nothing now.
    await endSessions(app.db, r.draftKey);
    endSessionForLater(request, reply);
    const closesAt = new Date(r.survey.closes_at);
    paragraphs.push(fill(ui.savedUntil, { date: closeDateText(closesAt, definitionOf(r.survey).calendar.timezone, lang === 'en' ? 'en' : 'nl') }));
    const surveyTitle = renderText(r.questionnaire, r.questionnaire.def.title, lang, environment(r.questionnaire, {}, r.sample));
    return message(request, reply, 200, ui.savedTitle, paragraphs, { surveyTitle, contact: contactOf(r.survey) });
  });

  app.post<Route>('/q/reenter', { onRequest: typedCodeRateLimit, preHandler: app.csrfProtection }, async (request: Request, reply) => {
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    const form = bodyToForm(request.body);
    const page = form.page?.[0] ?? '';
    const carried = form.carried?.[0] ?? '{}';
    const invitee = await findInviteeByTypedCode(app.db, app.secrets, form.code?.[0] ?? '');
    if (!invitee) {
      failedCode(request);
      return reenterPage(request, reply, 400, { page, carried, error: ui.codeUnknown });
    }
    const ended = readEndedSession(request);
    const draftKey = draftKeyFor(app.secrets, invitee);
    await noteOpened(invitee);
    const round = await startSessionFor(request, reply, invitee.id, draftKey);
    // Only the person whose page it was sees its answers again; anyone else starts where they are.
    if (ended?.invitee !== invitee.id) return reply.redirect('/q', 303);
    const r = await loadRespondent(app.db, app.secrets, app.questionnaires, { invitee: invitee.id, draftKey, round });
    if (!r) return reply.redirect('/q', 303);
    const values = parseCarried(carried);
    const shown = values && carriedPage(r, page, values, app.config.now());
    // Shown, not saved: the person checks the page and goes on, as after any other interruption.
    return shown?.kind === 'show' ? renderPage(request, reply, r, shown.view) : reply.redirect('/q', 303);
  });

  app.get<Route>('/q/done', { preHandler: withRespondent }, async (request: Request, reply) => {
    const r = respondent(request);
    if (situationOf(r, app.config.now()) !== 'completed') return reply.redirect('/q', 303);
    const q = r.questionnaire;
    const lang = languageOf(request, reply, q.languages);
    const ui = uiText(lang);
    const env = environment(q, {}, r.sample);
    return reply.view('pages/message.hbs', {
      ui,
      surveyTitle: renderText(q, q.def.title, lang, env),
      contact: contactOf(r.survey),
      pageTitle: ui.thanksTitle,
      title: ui.thanksTitle,
      paragraphs: [richText(renderText(q, q.def.end.text, lang, env, literalPiped))],
    });
  });

  // Opt-out. The token in the URL is the authentication (it is as unguessable as a CSRF token),
  // so the POST also works as the one-click List-Unsubscribe-Post of the invitation mails.
  app.get<Route>('/optout/:token', { onRequest: codeRateLimit }, async (request: Request, reply) => {
    const invitee = await findInviteeByToken(app.db, app.secrets, request.params.token ?? '');
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    if (!invitee) {
      failedCode(request);
      return message(request, reply, 404, ui.optOutTitle, [ui.linkUnknown]);
    }
    if (await hasSubmitted(app.db, app.secrets, invitee)) return message(request, reply, 200, ui.optOutTitle, [ui.optOutTooLate]);
    // Answers in progress are deleted only when the page has said so (the form then carries
    // answers=withdraw); a one-click unsubscribe from a mail client stops the mail and keeps them.
    const inProgress = await hasAnswersInProgress(app.db, app.secrets, invitee);
    const survey = await getSurvey(app.db, invitee.survey_id);
    const named = survey && (await surveyNamed(survey, JSON.parse(invitee.sample) as Record<string, string>, ui.htmlLang));
    return reply.view('pages/optout.hbs', {
      ui,
      ...(named && { surveyTitle: named.surveyTitle, about: fill(ui.surveyAbout, { survey: named.surveyTitle, organisation: named.organisation }) }),
      contact: survey ? contactOf(survey) : undefined,
      pageTitle: ui.optOutTitle,
      action: request.url.split('?')[0],
      csrfToken: reply.generateCsrf(),
      inProgress,
      continueHref: `/s/${request.params.token}`,
    });
  });

  app.post<Route>('/optout/:token', { onRequest: codeRateLimit }, async (request: Request, reply) => {
    const invitee = await findInviteeByToken(app.db, app.secrets, request.params.token ?? '');
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    if (!invitee) {
      failedCode(request);
      return message(request, reply, 404, ui.optOutTitle, [ui.linkUnknown]);
    }
    if (await hasSubmitted(app.db, app.secrets, invitee)) return message(request, reply, 200, ui.optOutTitle, [ui.optOutTooLate]);
    const withdrawAnswers = (request.body as Record<string, unknown> | undefined)?.answers === 'withdraw';
    const { withdrawn } = await recordDisposition(app.db, app.secrets, invitee, 'refused', app.config.now(), { withdrawAnswers });
    endSession(reply);
    const survey = await getSurvey(app.db, invitee.survey_id);
    const named = survey && (await surveyNamed(survey, JSON.parse(invitee.sample) as Record<string, string>, ui.htmlLang));
    return message(request, reply, 200, ui.optOutDoneTitle, withdrawn ? [ui.optOutDoneText, ui.optOutWithdrawn] : [ui.optOutDoneText], survey ? { contact: contactOf(survey), surveyTitle: named?.surveyTitle } : {});
  });
}

