// Coming in: the start page (a typed code), the emailed link, and "no link or code any more?",
// which sends the invitation again.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { UI_LANGUAGES, uiText } from '../../i18n/ui.ts';
import { findInviteeByToken, findInviteeByTypedCode } from '../../usecases/invitations.ts';
import { resendOnRequest } from '../../usecases/resend.ts';
import { audit } from '../../db/audit.ts';
import { isEmailAddress } from '../../domain/survey/addresses.ts';
import { bodyToForm } from '../../domain/questionnaire/form-values.ts';
import { enter, languageOf, message, oneFieldPage, startPage, type CodeAttempts, type Request, type Route } from './respond.ts';

/** How long /lost takes to answer at least, whatever it found (see there). */
const LOST_ANSWER_MS = 200;

export default async function entryRoutes(app: FastifyInstance, { attempts }: { attempts: CodeAttempts }): Promise<void> {
  const { codeRateLimit, typedCodeRateLimit, failedCode, lostRateLimit } = attempts;

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
}
