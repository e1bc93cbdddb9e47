// The database and the questionnaire registry, opened with the app and closed with it.
import fp from 'fastify-plugin';
import { openDatabase, type Db } from '../db/connection.ts';
import { createSecrets, type Secrets } from '../security/secrets.ts';
import { QuestionnaireRegistry } from '../usecases/questionnaire-registry.ts';
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
  app.decorate('config', config);
  app.decorate('db', db);
  app.decorate('secrets', createSecrets(config.secret));
  app.decorate('questionnaires', new QuestionnaireRegistry(db));
  app.addHook('onClose', async () => db.destroy());
});
