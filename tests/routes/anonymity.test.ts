// The anonymity promise, tested on a real database file after several respondents finished:
// nothing in the answer store points at the ledger, and a copy of the database without the
// server secret opens no questionnaire.
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatCode } from '../../server/domain/codes.ts';
import { createSecrets } from '../../server/security/secrets.ts';
import type { IssuedInvitation } from '../../server/usecases/invitations.ts';
import { SecretMismatchError, secretCheckValue } from '../../server/usecases/server-secret.ts';
import { testServer, type Browser, type TestServer } from '../helpers/app.ts';

const FUNCTIES = ['burgemeester', 'wethouder', 'raadslid', 'cdk', 'gedeputeerde', 'statenlid'];
const dir = mkdtempSync(join(tmpdir(), 'anonymity-'));
const databasePath = join(dir, 'survey.sqlite');
let server: TestServer;
let invites: IssuedInvitation[];
/** Respondent numbers in the order they submitted. */
const submissionOrder: number[] = [];

async function finish(b: Browser, n: number): Promise<void> {
  await b.submit({});
  await b.submit({ Q1: ['geen'] });
  await b.submit({ Q11: `respondent ${n}` });
  while (b.pageId()) await b.submit(b.pageId() === 'H5' ? { Q15: 'goed' } : {});
  submissionOrder.push(n);
}

beforeAll(async () => {
  server = await testServer({ databasePath });
  const people = Array.from({ length: 14 }, (_, n) => ({
    email: `persoon${n}@gemeente${n}.test`,
    name: `Persoon ${n}`,
    organisation: `Gemeente ${n}`,
    sample: { functie: FUNCTIES[n % FUNCTIES.length]! },
  }));
  invites = await server.survey('owb-2024', people, { carry: ['functie'] });
  // Twelve finish (half by link, half by typed code, on different days), one stops halfway, one never starts.
  for (let n = 0; n < 12; n++) {
    server.clock.now = new Date(Date.parse('2024-06-03T09:13:27+02:00') + n * 7.3 * 3600 * 1000);
    const b = server.browser();
    if (n % 2 === 0) await b.open(`/s/${invites[n]!.token}`);
    else await b.typeCode(formatCode(invites[n]!.code));
    await finish(b, n);
  }
  const halfway = server.browser();
  await halfway.open(`/s/${invites[12]!.token}`);
  await halfway.submit({});
  await halfway.submit({ Q1: ['verbale_agressie'] });
  await server.close();
});

afterAll(() => undefined);

/** The database as someone with a copy sees it. */
function copyOfDatabase(): SQLite.Database {
  const copy = join(dir, `copy-${Math.random()}.sqlite`);
  copyFileSync(databasePath, copy);
  for (const suffix of ['-wal', '-shm']) {
    try {
      copyFileSync(databasePath + suffix, copy + suffix);
    } catch {
      // no WAL file left after a clean close
    }
  }
  return new SQLite(copy, { readonly: true });
}

function allText(db: SQLite.Database): string {
  const tables = db.prepare("select name from sqlite_master where type = 'table'").all() as { name: string }[];
  return tables.map(({ name }) => JSON.stringify(db.prepare(`select * from "${name}"`).all())).join('\n');
}

describe('the answer store', () => {
  it('holds a random id, the questionnaire, the answers, the carried strata, complete/partial and for partial ones the page of the break-off: nothing else', () => {
    const db = copyOfDatabase();
    const columns = (db.prepare('pragma table_info(responses)').all() as { name: string }[]).map((c) => c.name);
    expect(columns).toEqual(['id', 'survey_id', 'questionnaire_id', 'questionnaire_version', 'questionnaire_hash', 'answers', 'strata', 'status', 'reached_page']);
    const drafts = (db.prepare('pragma table_info(drafts)').all() as { name: string }[]).map((c) => c.name);
    expect(drafts).toEqual(['key', 'survey_id', 'answers', 'strata', 'current_page', 'furthest_page', 'version', 'session_round']);
  });

  it('has no rowid, so nothing records the order of arrival', () => {
    const db = copyOfDatabase();
    for (const table of ['responses', 'drafts']) {
      expect(() => db.prepare(`select rowid from ${table}`).all(), table).toThrow(/no such column: rowid/);
    }
  });

  it('stores responses in an order unrelated to the order they were submitted', () => {
    const db = copyOfDatabase();
    const rows = db.prepare('select id, answers from responses').all() as { id: string; answers: string }[];
    expect(rows).toHaveLength(12);
    for (const row of rows) expect(row.id).toMatch(/^[0-9a-f]{32}$/);
    const stored = rows.map((r) => Number(/respondent (\d+)/.exec(r.answers)![1]));
    expect(stored).not.toEqual(submissionOrder);
    expect([...stored].sort((a, b) => a - b)).toEqual([...submissionOrder].sort((a, b) => a - b));
  });

  it('shares no value with the ledger but the survey and the coarse stratum', () => {
    const db = copyOfDatabase();
    const invitees = db.prepare('select * from invitees').all() as Record<string, unknown>[];
    const answerStore = JSON.stringify([db.prepare('select * from responses').all(), db.prepare('select * from drafts').all()]);
    for (const invitee of invitees) {
      for (const column of ['email', 'name', 'organisation', 'code_lookup', 'token_lookup', 'code_sealed', 'token_sealed']) {
        expect(answerStore, `${column} of invitee ${String(invitee.id)}`).not.toContain(String(invitee[column]));
      }
    }
    for (const invite of invites) {
      expect(answerStore).not.toContain(invite.code);
      expect(answerStore).not.toContain(invite.token);
    }
    const ledger = JSON.stringify(invitees);
    for (const row of db.prepare('select id from responses').all() as { id: string }[]) expect(ledger).not.toContain(row.id);
    for (const row of db.prepare('select key from drafts').all() as { key: string }[]) expect(ledger).not.toContain(row.key);
  });

  it('keeps the ledger to states and dates, never a time of day or an answer', () => {
    const db = copyOfDatabase();
    const invitees = db.prepare('select state, opened_on, started_on, submitted_on, refused_on, interviewed_on, created_on from invitees').all() as Record<string, string | null>[];
    expect(invitees.map((i) => i.state).sort()).toEqual([...Array(12).fill('submitted'), 'invited', 'started'].sort());
    for (const invitee of invitees) {
      for (const [column, value] of Object.entries(invitee)) if (column !== 'state' && value !== null) expect(value, column).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    const columns = (db.prepare('pragma table_info(invitees)').all() as { name: string }[]).map((c) => c.name);
    expect(columns.filter((c) => /answer|response|draft|time|_at$/.test(c))).toEqual([]);
  });
});

describe('a copy of the database without the server secret', () => {
  it('contains no invitation code or link token in any form that can be read', () => {
    const text = allText(copyOfDatabase());
    for (const invite of invites) {
      expect(text).not.toContain(invite.code);
      expect(text).not.toContain(formatCode(invite.code));
      expect(text).not.toContain(invite.token);
    }
  });

  it('does not let anyone open a questionnaire, while the right secret does', async () => {
    const copy = join(dir, 'stolen.sqlite');
    copyFileSync(databasePath, copy);
    const other = 'another-secret-of-sufficient-length-0123456789';
    // The server refuses to start with another secret than the database was set up with…
    await expect(testServer({ databasePath: copy, secret: other })).rejects.toThrow(SecretMismatchError);
    // …and whoever gets past that (writing their own secret's check value into the copy) still
    // opens nothing: the codes are sealed with the real one.
    const edited = new SQLite(copy);
    edited.prepare("update settings set value = ? where key = 'server_secret_check'").run(secretCheckValue(createSecrets(other)));
    edited.close();
    const thief = await testServer({ databasePath: copy, secret: other });
    const b = thief.browser();
    expect((await b.open(`/s/${invites[13]!.token}`)).statusCode).toBe(404);
    expect((await b.typeCode(invites[13]!.code)).statusCode).toBe(400);
    await thief.close();

    // Without a check value, the sealed codes tell the owner's secret from the thief's.
    const reset = new SQLite(copy);
    reset.prepare('delete from settings').run();
    reset.close();
    const owner = await testServer({ databasePath: copy });
    const o = owner.browser();
    await o.open(`/s/${invites[13]!.token}`);
    expect(o.pageId()).toBe('welkom');
    await owner.close();
  });
});

describe('drafts', () => {
  it('are reachable only through the code, and gone once submitted', async () => {
    const db = copyOfDatabase();
    expect((db.prepare('select count(*) n from drafts').get() as { n: number }).n).toBe(1);
    const copy = join(dir, 'resume.sqlite');
    copyFileSync(databasePath, copy);
    const again = await testServer({ databasePath: copy });
    const b = again.browser();
    await b.typeCode(invites[12]!.code);
    expect(b.pageId()).toBe('H1_reactie');
    await again.close();
  });
});

describe('request logs', () => {
  it('never contain a code or token, nor who made the request', () => {
    const logs = server.logs.join('');
    expect(logs).toContain('"route":"/s/:token"');
    for (const invite of invites) {
      expect(logs).not.toContain(invite.token);
      expect(logs).not.toContain(invite.code);
      expect(logs).not.toContain(formatCode(invite.code));
    }
    expect(logs).not.toMatch(/remoteAddress|user-agent|127\.0\.0\.1/i);
  });

  it('show route patterns only, so that no sequence of pages spells out anyone\'s routing, at a resolution that cannot single out a submit', () => {
    const lines = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests.length).toBeGreaterThan(100);
    expect(new Set(requests.map((r) => r.route))).toContain('/q/p/:page');
    // No page id anywhere (every page of the questionnaire these respondents were shown).
    const text = server.logs.join('');
    for (const page of ['welkom', 'H1', 'H1_reactie', 'H4', 'H5']) expect(text).not.toContain(`/q/p/${page}`);
    expect(text).not.toMatch(/"url"|responseTime/);
    // Times to the minute; request ids that count nothing.
    for (const line of lines) expect(String(line.time)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/);
    expect(requests.some((r) => /^req-\d+$/.test(String(r.reqId)))).toBe(false);
  });
});
