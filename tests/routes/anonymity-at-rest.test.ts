// The anonymity promise against someone who copies the data folder while the server runs (a
// backup script, a stolen disk) and reads the files byte by byte, without the server secret and
// without SQLite: every WAL frame of every generation, grouped by commit, the cells each commit
// changed, and the free space of every page. Thirty respondents answer over simulated days,
// several at once, and the folder is copied at many moments. No copy may link a response or a
// draft to an invitee; after close and purge no byte of the frame's contact data or codes is left
// in any file. And someone who holds the database and the secret finds no draft of anyone who
// submitted (docs/anonymity.md, "The insider").
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpoint } from '../../server/db/connection.ts';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { formatCode } from '../../server/domain/codes.ts';
import { closeSurvey } from '../../server/usecases/answering.ts';
import { draftKeyFor, type IssuedInvitation } from '../../server/usecases/invitations.ts';
import { purgeSurvey } from '../../server/usecases/purge.ts';
import { getSurvey } from '../../server/db/surveys.ts';
import { testServer, type Browser, type TestServer } from '../helpers/app.ts';
import { containsText, databasePages, decodePage, walCommits, type Cell, type Page } from '../helpers/sqlite-bytes.ts';

const K = 5;
const dir = mkdtempSync(join(tmpdir(), 'anonymity-at-rest-'));
const databasePath = join(dir, 'enquete.sqlite');
/** 20 council members, 7 aldermen, 3 King's commissioners: the last a stratum smaller than k. */
const FUNCTIES = [...Array<string>(20).fill('raadslid'), ...Array<string>(7).fill('wethouder'), ...Array<string>(3).fill('cdk')];
const people = FUNCTIES.map((functie, n) => ({
  email: `persoon${n}@gemeente${n}.test`,
  name: `Wilhelmina Zwaneveld-${n}`,
  phone: `+31 6 5550 ${String(1000 + n)}`,
  organisation: `Gemeente Nummer${n}`,
  sample: { functie },
}));

let server: TestServer;
let invites: IssuedInvitation[];
/** Copies of the data folder taken while the server ran: file name -> bytes. */
const copies: { label: string; files: Map<string, Uint8Array> }[] = [];
let afterCheckpoint: Map<string, Uint8Array>;
let afterPurge: Map<string, Uint8Array>;
/** Who submitted and who was still answering when the last copy was taken. */
const submitted = new Set<number>();
const halfway = 29;
let inviteeColumns: string[];
let draftColumns: number;
/** Draft keys, worked out with the secret (as an insider can) before purge removes the ledger. */
const keys = new Map<number, string>();

const emailOf = (n: number) => people[n]!.email;

function copyFolder(): Map<string, Uint8Array> {
  return new Map(readdirSync(dir).map((name) => [name, new Uint8Array(readFileSync(join(dir, name)))]));
}

/** A small deterministic generator: which respondent takes the next step. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

/** The steps of one respondent, from the link (or typed code) to the last page. */
async function* respondent(b: Browser, n: number): AsyncGenerator<void> {
  if (n % 2 === 0) await b.open(`/s/${invites[n]!.token}`);
  else await b.typeCode(formatCode(invites[n]!.code));
  yield;
  await b.submit({});
  yield;
  await b.submit({ Q1: n === halfway ? ['verbale_agressie'] : ['geen'] });
  yield;
  if (n === halfway) return;
  while (b.pageId()) {
    const page = b.pageId();
    await b.submit(page === 'H5' ? { Q15: 'goed' } : page === 'H4' ? { Q11: `respondent ${n}` } : b.formAsShown());
    yield;
  }
  if (b.heading() !== 'Hartelijk dank') throw new Error(`respondent ${n} did not finish: ${b.heading()}`);
  submitted.add(n);
}

beforeAll(async () => {
  server = await testServer({ databasePath, batchedLedger: true, start: new Date('2024-06-03T08:30:00+02:00') });
  invites = await server.survey('owb-2024', people, { carry: ['functie'], strata: ['functie'] });
  const db = new SQLite(databasePath, { readonly: true });
  inviteeColumns = (db.prepare('pragma table_info(invitees)').all() as { name: string }[]).map((c) => c.name);
  draftColumns = (db.prepare('pragma table_info(drafts)').all() as unknown[]).length;
  db.close();

  // Everyone answers, a few at a time, over a day; a copy is taken every few steps. For the first
  // half a backup tool reads the database (an open read transaction), so that no checkpoint can
  // empty the WAL: the copies then hold every commit, the ledger's batches among them.
  const backup = new SQLite(databasePath, { readonly: true });
  backup.exec('begin');
  backup.prepare('select count(*) from invitees').get();
  const next = random(7);
  const waiting = [...people.keys()].sort(() => next() - 0.5);
  const active: { n: number; steps: AsyncGenerator<void> }[] = [];
  for (let step = 0; waiting.length > 0 || active.length > 0; step++) {
    while (active.length < 4 && waiting.length > 0) {
      const n = waiting.shift()!;
      active.push({ n, steps: respondent(server.browser(), n) });
    }
    server.clock.now = new Date(server.clock.now.getTime() + 60_000);
    const i = Math.floor(next() * active.length);
    if ((await active[i]!.steps.next()).done) active.splice(i, 1);
    if (step % 5 === 0) copies.push({ label: `step ${step}${backup.open ? ' (while a backup reads)' : ''}`, files: copyFolder() });
    if (submitted.size === 12 && backup.open) {
      backup.exec('commit');
      backup.close();
    }
  }
  copies.push({ label: 'at the end', files: copyFolder() });
  // What the server does every minute: the WAL is emptied.
  await checkpoint(server.app.db);
  afterCheckpoint = copyFolder();
  copies.push({ label: 'after a checkpoint', files: afterCheckpoint });

  for (const n of people.keys()) keys.set(n, draftKeyFor(server.app.secrets, (await findInviteeByEmail(server.app.db, 'owb-2024', emailOf(n)))!));
  const survey = (await getSurvey(server.app.db, 'owb-2024'))!;
  const questionnaire = await server.app.questionnaires.byHash(survey.questionnaire_hash);
  await closeSurvey(server.app.db, server.app.secrets, survey, questionnaire, server.clock.now);
  await purgeSurvey(server.app.db, (await getSurvey(server.app.db, 'owb-2024'))!, server.clock.now);
  afterPurge = copyFolder();
}, 120_000);

afterAll(async () => {
  await server.close();
});

// ---- what the attacker reads from a copy ----

const RESPONDENT_COLUMNS = ['opened_on', 'started_on', 'counted_on', 'submitted_on'] as const;

interface LedgerChange {
  email: string;
  functie: string;
  /** The furthest thing the ledger learnt in this commit: opened, started, counted or submitted. */
  learnt: (typeof RESPONDENT_COLUMNS)[number];
}

interface CommitSeen {
  ledger: LedgerChange[];
  /** Records of the answer side (drafts, responses, submission records) added or removed. */
  answers: Cell[];
  /** Responses that appeared in this commit, by the "respondent n" their answers hold. */
  responses: { n: number | undefined; functie: string }[];
}

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
const isKey = (v: unknown) => typeof v === 'string' && /^[A-Za-z0-9_-]{43}$/.test(v);
/** A record of the answer side, by its shape: a draft (its columns), a response (9 values), a submission record (2). */
function answerKind(cell: Cell): 'draft' | 'response' | 'submission' | undefined {
  const v = cell.values;
  if (cell.rowid !== undefined) return undefined;
  if (v.length === draftColumns && isKey(v[0]) && text(v[2])?.startsWith('{')) return 'draft';
  if (v.length === 9 && /^[0-9a-f]{32}$/.test(text(v[0]) ?? '') && (v[7] === 'complete' || v[7] === 'partial')) return 'response';
  if (v.length === 2 && isKey(v[0]) && v[1] === 'owb-2024') return 'submission';
  return undefined;
}
const fingerprint = (cell: Cell) => JSON.stringify(cell.values, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));

/** How many frames of the WAL the database file already holds (the wal-index header, in the -shm). */
function backfilled(shm: Uint8Array | undefined): number {
  return shm && shm.length >= 100 ? new DataView(shm.buffer, shm.byteOffset).getUint32(96, true) : 0;
}

function readCopy(files: Map<string, Uint8Array>): CommitSeen[] {
  const pageImages = new Map<number, Page>();
  for (const [n, data] of databasePages(files.get('enquete.sqlite')!)) pageImages.set(n, decodePage(data, n));
  const invitees = new Map<bigint, Cell>();
  for (const page of pageImages.values()) for (const cell of page.cells) if (isInvitee(cell)) invitees.set(cell.rowid!, cell);
  const done = backfilled(files.get('enquete.sqlite-shm'));
  const seen: CommitSeen[] = [];
  for (const commit of walCommits(files.get('enquete.sqlite-wal') ?? new Uint8Array())) {
    const result: CommitSeen = { ledger: [], answers: [], responses: [] };
    for (const frame of commit.frames) {
      const page = decodePage(frame.data, frame.page);
      // The image before this frame: the frame before it, or the database file when it holds
      // nothing of the WAL yet (else that image is unknown, and nothing of it counts as changed).
      const before = pageImages.get(frame.page);
      const known = before !== undefined && (done === 0 || pageImages.has(-frame.page));
      pageImages.set(frame.page, page);
      pageImages.set(-frame.page, page);
      if (!known) continue;
      const old = new Set(before.cells.map(fingerprint));
      const now = new Set(page.cells.map(fingerprint));
      for (const cell of page.cells) {
        if (isInvitee(cell)) {
          const previous = invitees.get(cell.rowid!);
          invitees.set(cell.rowid!, cell);
          const change = ledgerChange(previous, cell);
          if (change) result.ledger.push(change);
        } else if (!old.has(fingerprint(cell)) && answerKind(cell)) {
          result.answers.push(cell);
          if (answerKind(cell) === 'response') {
            const n = /respondent (\d+)/.exec(text(cell.values[5]) ?? '')?.[1];
            result.responses.push({ n: n === undefined ? undefined : Number(n), functie: (JSON.parse(text(cell.values[6]) ?? '{}') as { functie: string }).functie });
          }
        }
      }
      for (const cell of before.cells) if (!now.has(fingerprint(cell)) && answerKind(cell)) result.answers.push(cell);
    }
    seen.push(result);
  }
  return seen;
}

function column(cell: Cell, name: string): unknown {
  return cell.values[inviteeColumns.indexOf(name)];
}

function isInvitee(cell: Cell): boolean {
  return cell.rowid !== undefined && cell.values.length >= inviteeColumns.length - 2 && (text(cell.values[inviteeColumns.indexOf('email')]) ?? '').includes('@');
}

function ledgerChange(before: Cell | undefined, after: Cell): LedgerChange | undefined {
  const learnt = RESPONDENT_COLUMNS.filter((c) => column(after, c) !== null && column(after, c) !== undefined && (before === undefined || column(before, c) !== column(after, c))).pop();
  if (!learnt) return undefined;
  return { email: text(column(after, 'email'))!, functie: (JSON.parse(text(column(after, 'sample'))!) as { functie: string }).functie, learnt };
}


describe('a copy of the data folder taken while the server runs, read byte by byte', () => {
  it('holds the WAL frames the attack reads: the test copies are not empty', () => {
    const commits = copies.flatMap((c) => readCopy(c.files));
    expect(commits.some((c) => c.answers.some((cell) => answerKind(cell) === 'draft'))).toBe(true);
    expect(commits.some((c) => c.answers.some((cell) => answerKind(cell) === 'submission'))).toBe(true);
    expect(commits.some((c) => c.ledger.length > 0)).toBe(true);
    expect(commits.flatMap((c) => c.responses).length).toBeGreaterThan(0);
  });

  it('has no commit that changes both the ledger and the answers', () => {
    for (const { label, files } of copies) {
      readCopy(files).forEach((commit, i) => {
        if (commit.ledger.length > 0) expect(commit.answers, `${label}, commit ${i}: ${commit.ledger.map((l) => l.email).join(', ')}`).toEqual([]);
      });
    }
  });

  it('has the ledger learn what respondents did only in batches of at least k per carried stratum', () => {
    let batches = 0;
    for (const { label, files } of copies) {
      for (const commit of readCopy(files)) {
        const groups = new Map<string, number>();
        for (const l of commit.ledger) groups.set(`${l.functie}/${l.learnt}`, (groups.get(`${l.functie}/${l.learnt}`) ?? 0) + 1);
        for (const [group, n] of groups) expect(n, `${label}: ${group}`).toBeGreaterThanOrEqual(K);
        if (groups.size > 0) batches++;
      }
    }
    expect(batches).toBeGreaterThan(0);
  });

  it('cannot tie a response to fewer than k people: the next batch of "submitted" after it holds k of its stratum or more', () => {
    let linkable = 0;
    for (const { label, files } of copies) {
      const commits = readCopy(files);
      commits.forEach((commit, i) => {
        for (const response of commit.responses) {
          const after = commits.slice(i + 1).find((c) => c.ledger.some((l) => l.learnt === 'submitted_on' && l.functie === response.functie));
          if (!after) continue;
          const candidates = after.ledger.filter((l) => l.learnt === 'submitted_on' && l.functie === response.functie);
          linkable++;
          expect(candidates.length, `${label}: respondent ${response.n}`).toBeGreaterThanOrEqual(K);
          if (candidates.length === 1) expect(candidates[0]!.email).not.toBe(emailOf(response.n!));
        }
      });
    }
    // The attack had material to work on.
    expect(linkable).toBeGreaterThan(0);
  });

  it('keeps the small stratum (3 of cdk) out of the ledger until the close', () => {
    for (const { files } of copies) for (const commit of readCopy(files)) expect(commit.ledger.filter((l) => l.functie === 'cdk')).toEqual([]);
  });
});

describe('someone who holds the database and the server secret', () => {
  it('finds no draft of anyone who submitted in any file once the WAL was emptied, and still finds a draft in progress', async () => {
    expect(submitted.size).toBeGreaterThan(20);
    const all = [...afterCheckpoint.values()];
    if (process.env.DEBUG_AT_REST) {
      for (const n of submitted) for (const [name, bytes] of afterCheckpoint) {
        const buf = Buffer.from(bytes); const at = buf.indexOf(keys.get(n)!);
        if (at >= 0) { const ps = 4096; const pn = Math.floor(at / ps) + 1; const page = decodePage(bytes.subarray((pn - 1) * ps, pn * ps), pn); console.log(n, name, at, 'page', pn, 'kind', page.kind, 'cells', page.cells.length, 'inCell', page.cells.some((c) => c.values.includes(keys.get(n)!)), JSON.stringify(buf.subarray(at - 60, at + 80).toString('latin1'))); }
      }
    }
    for (const n of submitted) expect(all.some((bytes) => containsText(bytes, keys.get(n)!)), `draft of respondent ${n}`).toBe(false);
    expect(all.some((bytes) => containsText(bytes, keys.get(halfway)!))).toBe(true);
  });
});

describe('after close and purge', () => {
  it('no file of the data folder holds any address, name, phone number, code or link token of the frame', () => {
    expect([...afterPurge.keys()].sort()).toContain('enquete.sqlite');
    for (const [name, bytes] of afterPurge) {
      people.forEach((p, n) => {
        for (const secret of [p.email, p.name, p.phone, p.organisation, invites[n]!.code, formatCode(invites[n]!.code), invites[n]!.token]) {
          expect(containsText(bytes, secret), `${name}: ${secret}`).toBe(false);
        }
      });
    }
  });

  it('still holds every response', () => {
    const pages = [...databasePages(afterPurge.get('enquete.sqlite')!)].map(([n, data]) => decodePage(data, n));
    const responses = pages.flatMap((p) => p.cells).filter((c) => answerKind(c) === 'response');
    // Every one who submitted, and the one who stopped halfway (past the counting rule): a partial response.
    expect(responses.length).toBe(submitted.size + 1);
  });
});

