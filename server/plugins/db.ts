// The database and the questionnaire registry, opened with the app and closed with it.
import fp from 'fastify-plugin';
import { checkpoint, openDatabase, type Db } from '../db/connection.ts';
import { amsterdamDate } from '../domain/survey/dates.ts';
import { LedgerMarks } from '../usecases/ledger-marks.ts';
import { createSecrets, type Secrets } from '../security/secrets.ts';
import { QuestionnaireRegistry } from '../usecases/questionnaire-registry.ts';
import { checkServerSecret } from '../usecases/server-secret.ts';
import type { AppConfig } from '../config.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: AppConfig;
    db: Db;
    secrets: Secrets;
    questionnaires: QuestionnaireRegistry;
    /** What respondents did, waiting for the ledger's next batch (usecases/ledger-marks.ts). */
    ledgerMarks: LedgerMarks;
  }
}

/**
 * How often the WAL is emptied at the latest (besides after every batch of the ledger): a
 * submitted draft's last versions stay in it until then (docs/anonymity.md).
 */
const CHECKPOINT_EVERY_MS = 60_000;

export default fp<{ config: AppConfig }>(async (app, { config }) => {
  const db = await openDatabase(config.databasePath);
  const secrets = createSecrets(config.secret);
  try {
    await checkServerSecret(db, secrets, config.secretSource ?? 'the configured secret');
  } catch (e) {
    await db.destroy();
    throw e;
  }
  app.decorate('config', config);
  app.decorate('db', db);
  app.decorate('secrets', secrets);
  const questionnaires = new QuestionnaireRegistry(db);
  app.decorate('questionnaires', questionnaires);
  const marks = new LedgerMarks(db, { log: app.log, ...(config.ledgerBatch !== undefined ? { batch: config.ledgerBatch } : {}) });
  app.decorate('ledgerMarks', marks);
  // What waited in memory when the process last stopped waits again, for its batch.
  await marks.reconcile(secrets, questionnaires, amsterdamDate(config.now()));
  const timer = setInterval(() => void checkpoint(db).catch((err: unknown) => app.log.error({ err }, 'checkpoint failed')), CHECKPOINT_EVERY_MS);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    // Full groups are written; the rest is found again from the answers at the next start.
    await marks.flush();
    await checkpoint(db);
    await db.destroy();
  });
});
