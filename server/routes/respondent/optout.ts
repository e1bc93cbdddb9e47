// Opting out with the link in every mail. The token in the URL is the authentication (it is as
// unguessable as a CSRF token), so the POST also works as the one-click List-Unsubscribe-Post of
// the invitation mails.

import type { FastifyInstance } from 'fastify';
import { fill, UI_LANGUAGES, uiText } from '../../i18n/ui.ts';
import { findInviteeByToken } from '../../usecases/invitations.ts';
import { hasAnswersInProgress, hasSubmitted, recordDisposition } from '../../usecases/refusal.ts';
import { contactOf } from '../../usecases/surveys.ts';
import { getSurvey } from '../../db/surveys.ts';
import { endSession } from './session.ts';
import { languageOf, message, surveyNamed, type CodeAttempts, type Request, type Route } from './respond.ts';

export default async function optOutRoutes(app: FastifyInstance, { attempts }: { attempts: CodeAttempts }): Promise<void> {
  const { codeRateLimit, failedCode } = attempts;

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
    const named = survey && (await surveyNamed(app, survey, JSON.parse(invitee.sample) as Record<string, string>, ui.htmlLang));
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
    const named = survey && (await surveyNamed(app, survey, JSON.parse(invitee.sample) as Record<string, string>, ui.htmlLang));
    return message(request, reply, 200, ui.optOutDoneTitle, withdrawn ? [ui.optOutDoneText, ui.optOutWithdrawn] : [ui.optOutDoneText], survey ? { contact: contactOf(survey), surveyTitle: named?.surveyTitle } : {});
  });
}
