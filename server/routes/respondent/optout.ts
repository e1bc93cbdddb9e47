// Opting out with the link in every mail. The token in the URL is the authentication (it is as
// unguessable as a CSRF token), so the POST also works as the one-click List-Unsubscribe-Post of
// the invitation mails.

import type { FastifyInstance, FastifyReply } from 'fastify';
import type { InviteeRow } from '../../db/invitees.ts';
import { fill, UI_LANGUAGES, uiText } from '../../i18n/ui.ts';
import { findInviteeByToken } from '../../usecases/invitations.ts';
import { hasAnswersInProgress, hasSubmitted, recordDisposition } from '../../usecases/refusal.ts';
import { contactOf } from '../../usecases/surveys.ts';
import { getSurvey } from '../../db/surveys.ts';
import { endSession } from './session.ts';
import { languageOf, message, surveyNamed, type CodeAttempts, type Request, type Route } from './respond.ts';

export default async function optOutRoutes(app: FastifyInstance, { attempts }: { attempts: CodeAttempts }): Promise<void> {
  const { codeRateLimit, failedCode } = attempts;
  const invitees = new WeakMap<Request, InviteeRow>();

  /** Both routes: the invitee of the token, who has not submitted; or the page that says why not. */
  const withInvitee = async (request: Request, reply: FastifyReply) => {
    const invitee = await findInviteeByToken(app.db, app.secrets, request.params.token ?? '');
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    if (!invitee) {
      failedCode(request);
      await message(request, reply, 404, ui.optOutTitle, [ui.linkUnknown]);
      return reply;
    }
    if (await hasSubmitted(app.db, app.secrets, invitee)) {
      await message(request, reply, 200, ui.optOutTitle, [ui.optOutTooLate]);
      return reply;
    }
    invitees.set(request, invitee);
  };

  /** The survey's title (in the header) and who runs it, for the page. */
  const surveyOf = async (invitee: InviteeRow, lang: string) => {
    const survey = await getSurvey(app.db, invitee.survey_id);
    if (!survey) return {};
    const named = await surveyNamed(app, survey, JSON.parse(invitee.sample) as Record<string, string>, lang);
    return { surveyTitle: named.surveyTitle, organisation: named.organisation, contact: contactOf(survey) };
  };

  app.get<Route>('/optout/:token', { onRequest: codeRateLimit, preHandler: withInvitee }, async function optOutPage(request: Request, reply) {
    const invitee = invitees.get(request)!;
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    // Answers in progress are deleted only when the page has said so (the form then carries
    // answers=withdraw); a one-click unsubscribe from a mail client stops the mail and keeps them.
    const inProgress = await hasAnswersInProgress(app.db, app.secrets, invitee);
    const { surveyTitle, organisation, contact } = await surveyOf(invitee, ui.htmlLang);
    return reply.view('pages/optout.hbs', {
      ui,
      surveyTitle,
      about: surveyTitle ? fill(ui.surveyAbout, { survey: surveyTitle, organisation: organisation ?? '' }) : undefined,
      contact,
      pageTitle: ui.optOutTitle,
      action: request.url.split('?')[0],
      csrfToken: reply.generateCsrf(),
      inProgress,
      continueHref: `/s/${request.params.token}`,
    });
  });

  app.post<Route>('/optout/:token', { onRequest: codeRateLimit, preHandler: withInvitee }, async function optOut(request: Request, reply) {
    const invitee = invitees.get(request)!;
    const ui = uiText(languageOf(request, reply, UI_LANGUAGES));
    const withdrawAnswers = (request.body as Record<string, unknown> | undefined)?.answers === 'withdraw';
    const { withdrawn } = await recordDisposition(app.db, app.secrets, invitee, 'refused', app.config.now(), { withdrawAnswers });
    endSession(reply);
    const { surveyTitle, contact } = await surveyOf(invitee, ui.htmlLang);
    return message(request, reply, 200, ui.optOutDoneTitle, withdrawn ? [ui.optOutDoneText, ui.optOutWithdrawn] : [ui.optOutDoneText], { surveyTitle, contact });
  });
}
