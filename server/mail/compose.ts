// Composing an invitee's mail of a mailing: the code and link unsealed, the Message-ID, the
// templates rendered and the MIME message built, from data the sender read for a whole claimed
// batch at once. (Composing on a worker thread was tried: on the two cores the sender, the SMTP
// server and the worker share, it sent 0.48 of the server's pace against 0.58 here.)

import type { InviteeForMail } from '../db/invitees.ts';
import { mailingOf } from '../db/outbox.ts';
import type { PlannedMailing } from '../domain/survey/calendar.ts';
import type { SurveyDefinition } from '../domain/survey/definition.ts';
import type { Secrets } from '../security/secrets.ts';
import { revealInvitation } from '../usecases/invitations.ts';
import { composeMessage } from './mime.ts';
import type { ReturnPaths } from './return-path.ts';
import { HeaderInjectionError, TemplateError, type MailTemplates } from './render.ts';
import type { OutgoingMail } from './transport.ts';

/** What every mail of a survey's sending run shares. */
export interface MailRun {
  surveyId: string;
  definition: SurveyDefinition;
  mailings: PlannedMailing[];
  closesAt: Date;
  publicUrl: string;
  /** With BOUNCE_ADDRESS: each mail's own return path, so that reports that come back later find it. */
  returnPaths?: ReturnPaths;
}

export interface MailToCompose {
  outboxId: number;
  /** The outbox row's mailing id: the mailing, or a copy of it sent again (`invitation~2`). */
  outboxMailingId: string;
  invitee: InviteeForMail;
}

/**
 * A composed mail, or why there is none: `refused`, this mail cannot be sent (a newline in a
 * header field, its mailing gone); `unrenderable`, no mail of its mailing can (a template edited
 * since `survey create` checked it).
 */
export type Composition = { mail: OutgoingMail } | { refused: string } | { unrenderable: string };

/** The domain of an address ("Naam <a@b.nl>" too), for Message-IDs. */
export function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? 'localhost';
}

/**
 * The same for every sending of the same mail to the same invitee, so that a mailbox shows a mail
 * sent twice (after a crash) once; a copy sent again on request has an outbox mailing id, and so
 * a Message-ID, of its own.
 */
export function messageIdFor(secrets: Secrets, run: MailRun, inviteeId: number, outboxMailingId: string): string {
  return `<${secrets.hmac('mail-id', `${run.surveyId}:${inviteeId}:${outboxMailingId}`).slice(0, 32)}@${domainOf(run.definition.mail.from)}>`;
}

export function composeMail(secrets: Secrets, templates: MailTemplates, run: MailRun, item: MailToCompose, now: Date): Composition {
  const { invitee, outboxMailingId } = item;
  const mailing = run.mailings.find((m) => m.id === mailingOf(outboxMailingId).mailingId);
  if (!mailing) return { refused: `mailing ${outboxMailingId} is no longer in the calendar` };
  const { code, token } = revealInvitation(secrets, invitee);
  const messageId = messageIdFor(secrets, run, invitee.id, outboxMailingId);
  try {
    const rendered = templates.render({ definition: run.definition, mailing, invitee, code, token, publicUrl: run.publicUrl, closesAt: run.closesAt, messageId });
    const message = composeMessage(rendered, now);
    if (run.returnPaths) message.envelope.from = run.returnPaths.forOutbox(item.outboxId);
    return { mail: { rendered: { messageId, to: rendered.to, subject: rendered.subject }, message, surveyId: run.surveyId } };
  } catch (e) {
    if (e instanceof TemplateError) return { unrenderable: `mailing ${mailing.id} cannot be rendered: ${e.message}` };
    if (e instanceof HeaderInjectionError) return { refused: e.message };
    throw e;
  }
}
