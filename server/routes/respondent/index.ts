// The respondent's pages: enter with a link or a typed code (entry.ts), answer page by page
// (questionnaire.ts: POST, then redirect, so refresh and back never resubmit), finish once, or opt
// out (optout.ts). What they share is in respond.ts.

import type { FastifyInstance } from 'fastify';
import entryRoutes from './entry.ts';
import optOutRoutes from './optout.ts';
import questionnaireRoutes from './questionnaire.ts';
import { codeAttempts } from './respond.ts';

export default async function respondentRoutes(app: FastifyInstance): Promise<void> {
  // Pages hold a person's answers and a form that is only valid for the answers as they are now.
  // Stored, a browser shows them again on Back (or to the next user of a shared computer) as they
  // were. Not stored, Back asks the server for the page as it is; a browser that still restores
  // it from its back/forward cache posts the form it was shown with, which the page flow saves as
  // this session's own (usecases/page-flow.ts).
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store');
  });
  // One count of failed attempts at a code for every route that takes one.
  const attempts = codeAttempts(app);
  await app.register(entryRoutes, { attempts });
  await app.register(questionnaireRoutes, { attempts });
  await app.register(optOutRoutes, { attempts });
}
