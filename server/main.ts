// Starts the server: the only file that reads the environment and listens.
//
//   PORT (3000), HOST (127.0.0.1), DATABASE_PATH (data/enquete.sqlite), PUBLIC_URL,
//   SERVER_SECRET (else kept in data/secret, created on first start), COOKIE_SECURE (true),
//   LOG_LEVEL (info)

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from './app.ts';
import type { AppConfig } from './config.ts';
import { generateMasterSecret } from './security/secrets.ts';
import { demoLinks, ensureDemoSurvey } from './usecases/demo.ts';

const root = fileURLToPath(new URL('..', import.meta.url));

/** The secret never goes into the database; without SERVER_SECRET it is kept in a file beside it. */
function serverSecret(databasePath: string): string {
  if (process.env.SERVER_SECRET) return process.env.SERVER_SECRET;
  const file = resolve(dirname(databasePath), 'secret');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, generateMasterSecret() + '\n', { mode: 0o600 });
  }
  return readFileSync(file, 'utf8').trim();
}

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const databasePath = resolve(process.env.DATABASE_PATH ?? `${root}data/enquete.sqlite`);
const config: AppConfig = {
  databasePath,
  secret: serverSecret(databasePath),
  publicUrl: (process.env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, ''),
  secureCookies: process.env.COOKIE_SECURE !== 'false',
  questionnairesDir: `${root}questionnaires`,
  codeAttemptsPerMinute: 10,
  logger: { level: process.env.LOG_LEVEL ?? 'info' },
  now: () => new Date(),
};

const app = await buildApp(config);
const created = await ensureDemoSurvey(app.db, app.secrets, config.questionnairesDir, config.now());
const links = await demoLinks(app.db, app.secrets, config.publicUrl);
await app.listen({ port, host });

if (links.length > 0) {
  console.log(`\n${created ? 'Created the' : 'The'} demo survey (OWB 2024) in ${databasePath}. Open one of these invitations:\n`);
  for (const l of links) console.log(`  ${l.functie.padEnd(13)} ${l.link}\n  ${''.padEnd(13)} or type code ${l.code} at ${config.publicUrl}/\n`);
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app.close().then(() => process.exit(0));
  });
}
