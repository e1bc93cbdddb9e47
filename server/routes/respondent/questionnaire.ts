// The questionnaire itself, for the respondent of a session: where they are, a page shown and
// posted (the page flow, usecases/page-flow.ts, decides; these routes show and redirect), stopping
// for later, signing in again with a page that waited, and the end.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { environment, renderText } from '../../domain/questionnaire/index.ts';
import { amsterdamDate } from '../../domain/survey/dates.ts';
import { unmarkRefused } from '../../db/invitees.ts';
import { fill, UI_LANGUAGES, uiText } from '../../i18n/ui.ts';
import { draftKeyFor, findInviteeByTypedCode } from '../../usecases/invitations.ts';
import { loadRespondent, resumePage, situationOf, type Respondent, type Situation } from '../../usecases/answering.ts';
import { carriedPage, pageToShow, submitPage, type PageView } from '../../usecases/page-flow.ts';
import { contactOf, definitionOf } from '../../usecases/surveys.ts';
import { closeDateText } from '../../domain/survey/dates.ts';
import { endSessions } from '../../db/drafts.ts';
import { bodyToForm } from '../../domain/questionnaire/form-values.ts';
import { buildItems, errorSummary, literalPiped, richText } from './page-view.ts';
import { endSessionForLater, noteWritten, readEndedSession, readSession, type SessionPayload } from './session.ts';
import { expired, languageOf, languageSwitch, message, noteOpened, parseCarried, reenterPage, startSessionFor, type CodeAttempts, type Request, type Route } from './respond.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** On the questionnaire's routes: the respondent of the session (withRespondent). */
    respondent?: Respondent;
    respondentSession?: SessionPayload;
  }
}

async function respondentOf(request: Request): Promise<Respondent | undefined> {
  const session = readSession(request);
  return session && loadRespondent(request.server.db, request.server.secrets, request.server.questionnaires, session);
}

export default async function questionnaireRoutes(app: FastifyInstance, { attempts }: { attempts: CodeAttempts }): Promise<void> {
  const { typedCodeRateLimit, failedCode } = attempts;

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
    await noteOpened(app, invitee);
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
}
