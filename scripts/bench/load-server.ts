// A server for the load benchmark and the crash tests, in its own process so that it does not share a core with the
// load generator. `bare`: a Fastify app with one route that answers "ok" (the baseline). `app`:
// the platform on a fresh SQLite file with one open survey and INVITEES invitations, whose link
// tokens it writes to TOKENS_FILE; with SMTP_URL its sender delivers the invitations meanwhile.
// Prints "port <n>" when it listens.
import { writeFileSync } from 'node:fs';
import Fastify from 'fastify';
import { buildApp } from '../../server/app.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { configFromEnvironment } from '../../server/environment.ts';
import { issueInvitations } from '../../server/usecases/invitations.ts';
import { checkDefinition, saveSurvey } from '../../server/usecases/surveys.ts';

const mode = process.argv[2];

if (mode === 'bare') {
  const app = Fastify({ logger: false });
  app.get('/', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`port ${(app.server.address() as { port: number }).port}`);
} else {
  const config = configFromEnvironment({ ...process.env, PORT: '0', LOG_LEVEL: 'silent', COOKIE_SECURE: 'false' });
  const now = new Date();
  const local = (d: Date) => d.toLocaleString('sv-SE', { timeZone: 'Europe/Amsterdam' }).slice(0, 16).replace(' ', 'T');
  // Limits per address off: every request of the benchmark comes from 127.0.0.1, where in the
  // field each respondent (and each attacker's attempt, in the sign-in flood) has its own.
  const app = await buildApp({ ...config, codeAttemptsPerMinute: 1_000_000, loginAttemptsPerMinute: 1_000_000 });
  const definition = {
    id: 'load',
    title: 'Belastingtest',
    questionnaire: 'owb-2024.json',
    sample: { strata: ['functie'], carry: ['functie'] },
    calendar: {
      opens: local(new Date(now.getTime() - 60_000)),
      closes: local(new Date(now.getTime() + 7 * 86_400_000)),
      sendWindow: { days: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'], from: '00:00', until: '24:00' },
      mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }],
    },
    mail: { from: 'Onderzoek <onderzoek@bureau.test>', organisation: 'Bureau' },
    sending: { ratePerMinute: 1_000_000, maxAttempts: 3 },
  };
  const checked = checkDefinition(definition, config.questionnairesDir);
  if (!checked.ok) throw new Error(JSON.stringify(checked.problems));
  // A restart (after a crash, in the fault tests) keeps the survey and its invitations.
  const restart = (await getSurvey(app.db, 'load')) !== undefined;
  if (!restart) await saveSurvey(app.db, checked.survey, now);
  const count = restart ? 0 : Number(process.env.INVITEES ?? 1000);
  const tokens: string[] = [];
  const functies = ['burgemeester', 'wethouder', 'raadslid'];
  for (let i = 0; i < count; i += 5000) {
    const people = Array.from({ length: Math.min(5000, count - i) }, (_, j) => ({ email: `r${i + j}@gemeente.example`, sample: { functie: functies[(i + j) % 3]! } }));
    for (const issued of await issueInvitations(app.db, app.secrets, 'load', people, now)) tokens.push(issued.token);
  }
  if (!restart) writeFileSync(process.env.TOKENS_FILE!, tokens.join('\n'));
  await app.listen({ port: 0, host: '127.0.0.1' });
  console.log(`port ${(app.server.address() as { port: number }).port}`);
}

// A normal exit on SIGTERM, so that `node --cpu-prof` writes its profile.
process.once('SIGTERM', () => process.exit(0));
