import { MailTemplates } from '../../server/mail/render.ts';
import type { MailTransport } from '../../server/mail/transport.ts';
import { runFieldwork, type FieldworkDeps, type FieldworkReport } from '../../server/usecases/fieldwork.ts';
import { TEMPLATES_DIR } from '../../server/usecases/surveys.ts';
import type { TestServer } from './app.ts';

/** Runs the sender as the server would, on the test server's clock, without pauses. */
export function fieldwork(server: TestServer, transport: MailTransport, templates = new MailTemplates(TEMPLATES_DIR)) {
  const warnings: string[] = [];
  const deps: FieldworkDeps = {
    db: server.app.db,
    secrets: server.app.secrets,
    transport,
    templates,
    questionnaires: server.app.questionnaires,
    publicUrl: 'https://enquete.test',
    now: () => server.clock.now,
    sleep: async () => {},
    log: { info: () => {}, warn: (_d, message) => warnings.push(message) },
    staleClaimMs: 0,
  };
  return { deps, warnings, run: (options?: { surveyId?: string; sendLimit?: number }): Promise<FieldworkReport> => runFieldwork(deps, options) };
}
