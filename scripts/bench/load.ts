// Load benchmark (npm run bench:load). On this machine, in one run, with the server in its own
// process and a keep-alive HTTP client here:
//  1. baseline: a bare Fastify route (GET /, "ok");
//  2. rendering a questionnaire page for respondents with a session (GET /q/p/H1);
//  3. submitting a page (POST: CSRF, validate, route, durable write of the draft), against the
//     baseline of a bare loop of durable single-row SQLite commits (WAL, synchronous FULL);
//     afterwards the database must hold exactly the submitted answers and no request may fail;
//  4. a fieldwork morning: 10,000 respondents open their link and answer the first pages while
//     the server's sender delivers their invitations to a local SMTP server;
//  5. (at 50) respondents at a human pace while 16 clients flood the admin sign-in with wrong
//     passwords for unknown accounts (the limits per address and account set high, as if every
//     attempt came from elsewhere): their p99 against the quiet figure (target: within 2x);
// at 50 and 200 concurrent respondents, with requests/s, p50/p99 latency, the server's CPU time
// per request, ratios to the baselines, and the server's peak RSS.
import { fileURLToPath } from 'node:url';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { Respondent, type Reply } from './http-client.ts';

const PHASE_MS = Number(process.env.BENCH_PHASE_MS ?? 5000);
const MORNING = Number(process.env.BENCH_MORNING ?? 10_000);
const MORNING_WINDOW_S = Number(process.env.BENCH_MORNING_WINDOW_S ?? 120);
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

interface Started {
  port: number;
  child: ChildProcess;
}

function startChild(script: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', here(script), ...args], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('port ')) resolve({ port: Number(line.slice(5)), child });
    });
  });
}

/** CPU time (user + system) a process has used so far, in ms (Linux: /proc/<pid>/stat, in ticks of 10 ms). */
function cpuMs(child: ChildProcess): number {
  const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function peakRssMb(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

// ---- Measuring ---------------------------------------------------------------------------

interface Result {
  requests: number;
  failures: number;
  rps: number;
  p50: number;
  p99: number;
  /** The server's CPU time per request, in us (what a request costs the server, whatever the client's speed). */
  cpuUs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs `step` in `concurrency` loops for PHASE_MS; each step returns its latency and success. */
async function phase(server: ChildProcess, concurrency: number, step: (worker: number) => Promise<{ ms: number; ok: boolean }>, warmUp = true): Promise<Result> {
  // A second of warm-up (JIT, caches, connections) that is not measured; failures still count.
  // (Not for paced steps: waiting for every worker to finish its warm-up would line them all up.)
  let failures = 0;
  const warm = performance.now() + (warmUp ? 1000 : 0);
  await Promise.all(Array.from({ length: concurrency }, async (_, w) => {
    while (performance.now() < warm) if (!(await step(w)).ok) failures++;
  }));
  const latencies: number[] = [];
  const until = performance.now() + PHASE_MS;
  const started = performance.now();
  const cpuBefore = cpuMs(server);
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < until) {
        const r = await step(w);
        latencies.push(r.ms);
        if (!r.ok) failures++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = ((cpuMs(server) - cpuBefore) * 1000) / latencies.length;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, failures, rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), cpuUs };
}

function durableCommitRate(dir: string): number {
  const db = new Database(join(dir, 'commits.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('create table t (id integer primary key, value text not null)');
  const insert = db.prepare('insert into t (value) values (?)');
  const one = db.transaction((v: string) => insert.run(v));
  const until = performance.now() + PHASE_MS;
  const started = performance.now();
  let n = 0;
  while (performance.now() < until) {
    one(`{"Q1":["geen"],"n":${n}}`);
    n++;
  }
  const rate = n / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

const fmt = (r: Result) => `${r.rps.toFixed(0).padStart(6)} req/s  p50 ${r.p50.toFixed(1).padStart(5)} ms  p99 ${r.p99.toFixed(1).padStart(6)} ms  server CPU ${r.cpuUs.toFixed(0).padStart(4)} us/req  failed ${r.failures}`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
  const lines: string[] = [];
  const say = (s: string) => {
    lines.push(s);
    console.log(s);
  };
  say(`load benchmark (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${PHASE_MS / 1000} s per measurement)`);

  const bare = await startChild('./load-server.ts', ['bare']);
  const commitsPerSecond = durableCommitRate(dir);
  const tokensFile = join(dir, 'tokens.txt');
  const app = await startChild('./load-server.ts', ['app'], { DATABASE_PATH: join(dir, 'app.sqlite'), TOKENS_FILE: tokensFile, INVITEES: '400', SENDER_INTERVAL_SECONDS: '0' });
  const tokens = readFileSync(tokensFile, 'utf8').split('\n');

  let allOk = true;
  let submittedTotal = 0;
  const summary: string[] = [];
  for (const concurrency of [50, 200]) {
    // Each respondent has its own connection, as each has its own browser.
    const agents = Array.from({ length: concurrency }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    const offset = concurrency === 50 ? 0 : 50;
    const respondents = await Promise.all(Array.from({ length: concurrency }, async (_, i) => {
      const r = new Respondent(app.port, agents[i]!);
      await r.enter(tokens[offset + i]!);
      return r;
    }));
    // First at a human pace, before anything saturates the server: each respondent answers a
    // page every 2 s (POST, then the GET the redirect leads to), spread over those 2 s.
    for (const r of respondents) r.readForm((await r.send('GET', '/q/p/H1')).body);
    const onH1 = respondents.map(() => true);
    const accepted = respondents.map(() => 0);
    const answer = async (w: number): Promise<{ ms: number; ok: boolean }> => {
      const r = respondents[w]!;
      const form: Record<string, string> = onH1[w] ? { _csrf: r.csrf, _version: String(r.version), _action: 'next', Q1: 'geen' } : { _csrf: r.csrf, _version: String(r.version), _action: 'previous' };
      const reply = await r.send('POST', onH1[w] ? '/q/p/H1' : '/q/p/H3', form);
      const expected = onH1[w] ? '/q/p/H3' : '/q/p/H1';
      const ok = reply.status === 303 && reply.location === expected;
      if (ok) {
        r.version++;
        accepted[w]!++;
        onH1[w] = !onH1[w];
      }
      return { ms: reply.ms, ok };
    };
    const atHumanPace = () => {
      const started = respondents.map(() => false);
      return phase(app.child, concurrency, async (w) => {
        if (!started[w]) {
          started[w] = true;
          await new Promise((res) => setTimeout(res, (w * 2000) / concurrency));
        }
        const t = performance.now();
        const posted = await answer(w);
        const page = await respondents[w]!.send('GET', onH1[w] ? '/q/p/H1' : '/q/p/H3');
        const rest = 2000 - (performance.now() - t);
        if (rest > 0) await new Promise((res) => setTimeout(res, rest));
        return { ms: Math.max(posted.ms, page.ms), ok: posted.ok && page.status === 200 };
      }, false);
    };
    const paced = await atHumanPace();
    let flood: { paced: Result; attempts: number; refused: number; seconds: number } | undefined;
    if (concurrency === 50) {
      // The same, while 16 clients try to sign in as fast as they are answered.
      let stop = false;
      let attempts = 0;
      let refused = 0;
      const floodStarted = performance.now();
      const floods = Array.from({ length: 16 }, async (_, i) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        const attacker = new Respondent(app.port, agent);
        for (let n = 0; !stop; n++) {
          attacker.readForm((await attacker.send('GET', '/admin/login')).body);
          const reply = await attacker.send('POST', '/admin/login', { _csrf: attacker.csrf, email: `guess${i}-${n}@bureau.example`, password: `wrong-password-${n}` });
          attempts++;
          if (reply.status === 503) refused++;
        }
        agent.destroy();
      });
      const pacedDuringFlood = await atHumanPace();
      stop = true;
      await Promise.all(floods);
      flood = { paced: pacedDuringFlood, attempts, refused, seconds: (performance.now() - floodStarted) / 1000 };
    }

    const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    const bareClient = new Respondent(bare.port, agent);
    const baseline = await phase(bare.child, concurrency, async () => {
      const r = await bareClient.send('GET', '/');
      return { ms: r.ms, ok: r.status === 200 };
    });

    const render = await phase(app.child, concurrency, async (w) => {
      const r = await respondents[w]!.send('GET', '/q/p/H1');
      return { ms: r.ms, ok: r.status === 200 && r.body.includes('name="Q1"') };
    });

    // Submitting as fast as answered: each respondent goes H1 -> H3 (next, "geen") and H3 -> H1
    // (previous), with the CSRF token and the page version a browser would send.
    const submit = await phase(app.child, concurrency, answer);
    submittedTotal += accepted.reduce((a, b) => a + b, 0);

    say('');
    say(`${concurrency} concurrent respondents`);
    say(`  at a human pace (a page every 2 s; slower of POST and GET)  p50 ${paced.p50.toFixed(1)} ms  p99 ${paced.p99.toFixed(1)} ms  failed ${paced.failures}${concurrency === 200 ? '   (target p99 < 50 ms)' : ''}`);
    if (flood) {
      say(`  the same during a sign-in flood (16 clients, ${(flood.attempts / flood.seconds).toFixed(0)} attempts/s, ${flood.refused} refused as busy)  p50 ${flood.paced.p50.toFixed(1)} ms  p99 ${flood.paced.p99.toFixed(1)} ms  failed ${flood.paced.failures}   p99 ratio to quiet ${(flood.paced.p99 / paced.p99).toFixed(2)} (target <= 2)`);
      allOk &&= flood.paced.failures === 0;
    }
    say(`  bare Fastify route (baseline)     ${fmt(baseline)}`);
    say(`  render a questionnaire page       ${fmt(render)}   ratio ${(render.rps / baseline.rps).toFixed(2)} (target >= 0.12)`);
    say(`  submit a page (durable write)     ${fmt(submit)}   ratio ${(submit.rps / commitsPerSecond).toFixed(2)} to ${commitsPerSecond.toFixed(0)} durable commits/s (target >= 0.5)`);
    allOk &&= paced.failures + baseline.failures + render.failures + submit.failures === 0;
    summary.push(`${concurrency}: render ${(render.rps / baseline.rps).toFixed(2)}, submit ${(submit.rps / commitsPerSecond).toFixed(2)}, p99 at a human pace ${paced.p99.toFixed(1)} ms${flood ? ` (${flood.paced.p99.toFixed(1)} ms during a sign-in flood)` : ''}, saturated ${Math.max(render.p99, submit.p99).toFixed(1)} ms`);
    agent.destroy();
    for (const a of agents) a.destroy();
  }

  // Every accepted submit is in the database: each draft's version counts its saves (one for the
  // welcome page, then one per accepted submit), and each holds the answer last given.
  const db = new Database(join(dir, 'app.sqlite'), { readonly: true });
  const drafts = db.prepare('select version, answers, current_page from drafts').all() as { version: number; answers: string; current_page: number }[];
  const saves = drafts.reduce((s, d) => s + d.version, 0);
  const consistent = saves === submittedTotal + drafts.length && drafts.every((d) => (d.version % 2 === 0 ? JSON.parse(d.answers).Q1?.[0] === 'geen' : true));
  db.close();
  say('');
  say(`database check: ${drafts.length} drafts hold ${saves - drafts.length} saved submits of ${submittedTotal} accepted: ${consistent ? 'exact' : 'MISMATCH'}; failed requests: ${allOk ? 'none' : 'SOME'}`);
  const appRss = peakRssMb(app.child);
  app.child.kill();
  bare.child.kill();

  // ---- The fieldwork morning ----------------------------------------------------------------
  const sink = await startChild('./smtp-sink.ts', []);
  const morningTokens = join(dir, 'morning-tokens.txt');
  const morning = await startChild('./load-server.ts', ['app'], {
    DATABASE_PATH: join(dir, 'morning.sqlite'),
    TOKENS_FILE: morningTokens,
    INVITEES: String(MORNING),
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    SENDER_INTERVAL_SECONDS: process.env.BENCH_MORNING_SENDER === '0' ? '0' : '1',
  });
  const countMails = () =>
    new Promise<number>((resolve) => {
      const lines = createInterface({ input: sink.child.stdout! });
      lines.on('line', (line) => {
        if (line.startsWith('count ')) {
          lines.close();
          resolve(Number(line.slice(6)));
        }
      });
      sink.child.stdin!.write('count\n');
    });
  const morningList = readFileSync(morningTokens, 'utf8').split('\n');
  // Open loop, as a morning is: respondents arrive at a steady rate over the window, whether or
  // not earlier ones are done; each opens its own connection, like a browser.
  const windowMs = MORNING_WINDOW_S * 1000;
  const latencies: number[] = [];
  let failures = 0;
  const started = performance.now();
  const mailsBefore = await countMails();
  const respondent = async (token: string) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const r = new Respondent(morning.port, agent);
    const timed = async (p: Promise<Reply>, ok: (x: Reply) => boolean) => {
      const x = await p;
      latencies.push(x.ms);
      if (!ok(x)) failures++;
      return x;
    };
    await timed(r.send('GET', `/s/${token}`), (x) => x.status === 303);
    const page = await timed(r.send('GET', '/q/p/welkom'), (x) => x.status === 200);
    r.readForm(page.body);
    await timed(r.send('POST', '/q/p/welkom', { _csrf: r.csrf, _version: String(r.version), _action: 'next' }), (x) => x.status === 303);
    r.version++;
    await timed(r.send('POST', '/q/p/H1', { _csrf: r.csrf, _version: String(r.version), _action: 'next', Q1: 'geen' }), (x) => x.status === 303);
    agent.destroy();
  };
  const running: Promise<void>[] = [];
  for (let i = 0; i < morningList.length; i++) {
    const due = started + (i * windowMs) / morningList.length;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    running.push(respondent(morningList[i]!));
  }
  await Promise.all(running);
  const seconds = (performance.now() - started) / 1000;
  const mails = (await countMails()) - mailsBefore;
  latencies.sort((a, b) => a - b);
  const morningRss = peakRssMb(morning.child);
  morning.child.kill();
  sink.child.stdin!.write('quit\n');
  say('');
  say(`fieldwork morning: ${morningList.length} respondents arrive over ${MORNING_WINDOW_S} s, open their link and answer two pages (done after ${seconds.toFixed(1)} s)`);
  say(`  ${latencies.length} requests, ${(latencies.length / seconds).toFixed(0)} req/s, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, failed ${failures}`);
  say(`  meanwhile the sender delivered ${mails} invitations: ${(mails / seconds).toFixed(0)} mails/s`);
  say('');
  say(`peak RSS of the server: ${appRss.toFixed(0)} MB (load phases), ${morningRss.toFixed(0)} MB (morning) (target < 300 MB)`);
  say(`summary: ${summary.join('; ')}`);
  if (!allOk || !consistent || failures > 0) process.exitCode = 1;
}

await main();
