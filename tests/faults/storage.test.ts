// A full disk or a read-only database: the respondent gets a clear "try again later" page (503,
// Retry-After), nothing of that request is stored, and every answer acknowledged before is kept.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type Browser, type TestServer } from '../helpers/app.ts';

let server: TestServer;
let b: Browser;

const drafts = async () => (await server.app.db.selectFrom('drafts').select(['answers', 'version', 'current_page']).execute()).map((d) => ({ ...d, answers: JSON.parse(d.answers) as Record<string, unknown> }));

beforeAll(async () => {
  server = await testServer({ databasePath: join(mkdtempSync(join(tmpdir(), 'faults-')), 'db.sqlite') });
  const [invite] = await server.survey('owb-2024', [{ email: 'a@gemeente.test', sample: { functie: 'raadslid' } }]);
  b = server.browser();
  await b.open(`/s/${invite!.token}`);
  await b.submit({});
  await b.submit({ Q1: ['geen'] });
  expect(b.pageId()).toBe('H3');
});

afterAll(() => server.close());

async function refusedSave(): Promise<void> {
  const before = await drafts();
  const response = await b.submit({ Q9: ['melden'], Q11: 'x'.repeat(1900) });
  expect(response.statusCode).toBe(503);
  expect(response.headers['retry-after']).toBe('120');
  expect(response.body).toContain('Even niet beschikbaar');
  expect(response.body).toContain('uw eerder opgeslagen antwoorden zijn bewaard');
  expect(await drafts()).toEqual(before);
  expect(before[0]!.answers).toEqual({ Q1: ['geen'] });
}

describe('when the database cannot write', () => {
  it('a full disk: "try again later", nothing half-written, and the save works once there is room', async () => {
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(server.app.db)).rows[0]!.page_count;
    await sql.raw(`pragma max_page_count = ${pages}`).execute(server.app.db);
    await refusedSave();
    await sql.raw('pragma max_page_count = 1073741823').execute(server.app.db);
    await b.open('/q/p/H3');
    await b.submit({ Q9: ['melden'], Q11: 'x'.repeat(1900) });
    expect(b.pageId()).toBe('H4');
    expect((await drafts())[0]!.answers).toMatchObject({ Q1: ['geen'], Q9: ['melden'] });
  });

  it('a read-only database: the same', async () => {
    await b.open('/q/p/H3');
    await sql`pragma query_only = 1`.execute(server.app.db);
    try {
      const before = await drafts();
      const response = await b.submit({ Q9: ['stopgesprek'] });
      expect(response.statusCode).toBe(503);
      expect(response.body).toContain('Even niet beschikbaar');
      expect(await drafts()).toEqual(before);
    } finally {
      await sql`pragma query_only = 0`.execute(server.app.db);
    }
    await b.open('/q/p/H3');
    await b.submit({ Q9: ['stopgesprek'] });
    expect(b.pageId()).toBe('H4');
  });
});
