// Starts the server: builds the app from the environment, creates the demo survey on an empty
// database, and listens. Settings: see server/environment.ts.

import { buildApp } from './app.ts';
import { ConfigError } from './config.ts';
import { configFromEnvironment } from './environment.ts';
import { demoLinks, ensureDemoSurvey } from './usecases/demo.ts';
import { SecretMismatchError } from './usecases/server-secret.ts';
import { DatabaseOpenError } from './db/connection.ts';

/** A file system or SQLite error about where the data lives (read-only, no space, no access). */
function isStorageError(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && /^(E(ACCES|PERM|ROFS|NOSPC|NOTDIR|ISDIR)|SQLITE_(READONLY|CANTOPEN|FULL|IOERR|NOTADB|PERM))/.test(code);
}

const config = (() => {
  try {
    return configFromEnvironment();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    process.exit(1);
  }
})();
const app = await buildApp(config).catch((e: unknown) => {
  if (e instanceof ConfigError || e instanceof DatabaseOpenError) console.error(e.message);
  else if (e instanceof SecretMismatchError) console.error(`${config.databasePath}: ${e.message}`);
  else if (isStorageError(e)) console.error(`${config.databasePath}: cannot write the database (${(e as { code: string }).code}: ${(e as Error).message}); the server needs a data folder and database file it can write`);
  else throw e;
  process.exit(1);
});
const created = await ensureDemoSurvey(app.db, app.secrets, config.questionnairesDir, config.now());
const links = await demoLinks(app.db, app.secrets, config.publicUrl);
await app.listen({ port: config.port, host: config.host });

if (links.length > 0) {
  console.log(`\n${created ? 'Created the' : 'The'} demo survey (OWB 2024) in ${config.databasePath}. Open one of these invitations:\n`);
  for (const l of links) console.log(`  ${l.functie.padEnd(13)} ${l.link}\n  ${''.padEnd(13)} or type code ${l.code} at ${config.publicUrl}/\n`);
  if (config.mail && !config.mail.smtpUrl) console.log(`Without SMTP_URL, the mails the survey sends are written to ${config.mail.dir}/ as .eml files.\n`);
  console.log(`The fieldwork dashboard is at ${config.publicUrl}/admin; add an account with: npx survey admin add you@example.org --role analyst\n`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
