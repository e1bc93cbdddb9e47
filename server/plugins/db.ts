// The database and the questionnaire registry, opened with the app and closed with it.
import fp from 'fastify-plugin';
import { openDatabase, type Db } from '../db/connection.ts';
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
  }
}

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
  app.decorate('questionnaires', new QuestionnaireRegistry(db));
  app.addHook('onClose', async () => db.destroy());
});
