// What every respondent page shares: the language, the message and one-field pages, the start
// and sign-in-again pages, entering with a code (a session, "opened" for the ledger), and the
// limits on failed attempts at a code. The routes are in entry.ts, questionnaire.ts, optout.ts.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { environment, renderText } from '../../domain/questionnaire/index.ts';
import { amsterdamDate } from '../../domain/survey/dates.ts';
import type { InviteeRow } from '../../db/invitees.ts';
import { fill, UI_LANGUAGES, uiText } from '../../i18n/ui.ts';
import { draftKeyFor } from '../../usecases/invitations.ts';
import { contactOf } from '../../usecases/surveys.ts';
import { getSurvey, listOpenSurveys, type SurveyRow } from '../../db/surveys.ts';
import { getDraft } from '../../db/drafts.ts';
import type { FormValues } from '../../domain/questionnaire/form-values.ts';
import { leftForLater, startSession } from './session.ts';
import { FailedAttempts } from '../../security/failed-attempts.ts';

export type Route = { Params: Record<string, string>; Querystring: Record<string, string> };
export type Request = FastifyRequest<Route>;

/** The language: ?lang= (remembered in a cookie), else the cookie, else Dutch. */
export function languageOf(request: Request, reply: FastifyReply, available: readonly string[]): string {
  const asked = request.query.lang;
  if (asked && available.includes(asked)) {
    reply.setCookie('lang', asked, { path: '/', httpOnly: true, sameSite: 'lax', secure: request.server.config.secureCookies });
    return asked;
  }
  const remembered = request.cookies.lang;
  return remembered && available.includes(remembered) ? remembered : 'nl';
}

export function languageSwitch(request: Request, lang: string, available: readonly string[]) {
  const other = available.find((l) => l !== lang);
  if (!other) return undefined;
  return { lang: other, label: uiText(lang).otherLanguageName, href: `${request.url.split('?')[0]}?lang=${other}` };
}

/** The form values a page posted after its session ended, as carried through the code page. */
export function parseCarried(text: string): FormValues | undefined {
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

/**
 * Failed attempts at a code, per client address: one counter for every way of trying a code
 * (typed, link, opt-out link), so that a guesser cannot multiply their attempts by switching
 * between routes. Only failures count (server/security/failed-attempts.ts): many office holders
 * behind one address all open their valid links. Typed codes are the guessable kind; failures
 * from everyone together are limited too, and past that limit only links open (the link tokens
 * cannot be guessed), so that guessing from many addresses stays expensive.
 */
export function codeAttempts(app: FastifyInstance) {
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

  return { codeRateLimit, typedCodeRateLimit, failedCode, lostRateLimit };
}
export type CodeAttempts = ReturnType<typeof codeAttempts>;

export const message = (request: Request, reply: FastifyReply, status: number, title: string, paragraphs: string[], extra: Record<string, unknown> = {}) => {
  const lang = languageOf(request, reply, UI_LANGUAGES);
  const ui = uiText(lang);
  return reply.code(status).view('pages/message.hbs', { ui, pageTitle: title, title, paragraphs, ...extra });
};

/**
 * A page with one field to fill in (the code, or an address): its title, the error at the field
 * (linked from the error summary), and what the form carries.
 */
export const oneFieldPage = (
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
export const surveyNamed = async (app: FastifyInstance, survey: SurveyRow, sample: Record<string, string>, lang: string) => {
  const q = await app.questionnaires.byHash(survey.questionnaire_hash);
  return { surveyTitle: renderText(q, q.def.title, lang, environment(q, {}, sample)), organisation: contactOf(survey).organisation };
};

/** The start page names the survey when only one is open: most bureaus run one at a time. */
export const startPage = async (request: Request, reply: FastifyReply, status: number, fields: { error?: string; code?: string } = {}) => {
  const now = request.server.config.now();
  const open = (await listOpenSurveys(request.server.db)).filter((s) => Date.parse(s.opens_at) <= now.getTime() && now.getTime() < Date.parse(s.closes_at));
  const lang = languageOf(request, reply, UI_LANGUAGES);
  const named = open.length === 1 ? await surveyNamed(request.server, open[0]!, {}, lang) : undefined;
  const about = named ? fill(uiText(lang).surveyAbout, { survey: named.surveyTitle, organisation: named.organisation }) : undefined;
  return oneFieldPage(request, reply, status, { template: 'pages/start.hbs', title: (ui) => ui.startTitle, field: 'code', languageSwitch: true }, { ...fields, ...(named && { surveyTitle: named.surveyTitle, about }) });
};

/** Exchanges a code or link for a session and sends the browser on to a URL without it. */
export const enter = async (request: Request, reply: FastifyReply, invitee: InviteeRow) => {
  await noteOpened(request.server, invitee);
  await startSessionFor(request, reply, invitee.id, draftKeyFor(request.server.secrets, invitee));
  return reply.redirect('/q', 303);
};

/** A session in the draft's current round (a session ended with "later" stays ended); returns the round. */
export const startSessionFor = async (request: Request, reply: FastifyReply, invitee: number, draftKey: string): Promise<number> => {
  const round = (await getDraft(request.server.db, draftKey))?.session_round ?? 0;
  startSession(request, reply, invitee, draftKey, round);
  return round;
};

/** The ledger learns "opened" in a later batch (ledger-marks.ts), like everything a respondent does. */
export const noteOpened = async (app: FastifyInstance, invitee: InviteeRow) => {
  if (invitee.opened_on !== null) return;
  const survey = await getSurvey(app.db, invitee.survey_id);
  if (survey) await app.ledgerMarks.note({ inviteeId: invitee.id, survey, sample: JSON.parse(invitee.sample) as Record<string, string> }, 'opened', amsterdamDate(app.config.now()));
};

export const reenterPage = (request: Request, reply: FastifyReply, status: number, fields: { page: string; carried: string; error?: string }) =>
  oneFieldPage(request, reply, status, { template: 'pages/reenter.hbs', title: (ui) => ui.reenterTitle, field: 'code', languageSwitch: false }, fields);

export const expired = (request: Request, reply: FastifyReply) => {
  const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
  if (leftForLater(request)) return message(request, reply, 401, ui.leftForLaterTitle, [ui.leftForLaterText], { link: { href: '/', label: ui.startTitle } });
  return message(request, reply, 401, ui.sessionExpiredTitle, [ui.sessionExpiredText], { link: { href: '/', label: ui.startTitle } });
};

