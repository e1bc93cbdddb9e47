// Limits that protect codes and passwords count failures, key on an address no header written by
// the client can move, and never refuse real respondents: many office holders behind one address
// (a town hall, a mobile carrier) all open their valid links on the morning of the invitation.
import { afterEach, describe, expect, it } from 'vitest';
import { upsertAccount } from '../../server/db/admin-accounts.ts';
import { formatCode } from '../../server/domain/codes.ts';
import { ConfigError } from '../../server/config.ts';
import { configFromEnvironment } from '../../server/environment.ts';
import { HashingBusyError, hashPassword, verifyPassword } from '../../server/security/passwords.ts';
import { testServer, type TestServer } from '../helpers/app.ts';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const people = (n: number) => Array.from({ length: n }, (_, i) => ({ email: `p${i}@gemeente.test`, sample: { functie: 'raadslid' } }));
const randomAddress = () => `203.0.113.${Math.floor(Math.random() * 250) + 1}`;

async function start(options: Parameters<typeof testServer>[0] = {}) {
  server = await testServer({ codeAttemptsPerMinute: 10, ...options });
  return server;
}

/** A request as it reaches the server: from `remoteAddress`, with whatever headers the client (or a proxy) wrote. */
const get = (s: TestServer, url: string, remoteAddress: string, headers: Record<string, string> = {}) => s.app.inject({ method: 'GET', url, remoteAddress, headers });

describe('codes', () => {
  it('opens 30 valid links from one address within a minute: only failures count', async () => {
    const s = await start();
    const invites = await s.survey('owb-2024', people(30));
    const statuses = [];
    for (const invite of invites) statuses.push((await get(s, `/s/${invite.token}`, '198.51.100.7')).statusCode);
    expect(statuses).toEqual(Array(30).fill(303));
  });

  it('refuses an address after 10 failures, also its valid links, and lets it try again after a minute', async () => {
    const s = await start();
    const [invite] = await s.survey('owb-2024', people(1));
    for (let i = 0; i < 10; i++) expect((await get(s, `/s/wrong-token-${i}-xxxxxxxxxxxxxxxx`, '198.51.100.7')).statusCode).toBe(404);
    const refused = await get(s, `/s/${invite!.token}`, '198.51.100.7');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another address is not affected.
    expect((await get(s, `/s/${invite!.token}`, '198.51.100.8')).statusCode).toBe(303);
    s.clock.now = new Date(s.clock.now.getTime() + 61_000);
    expect((await get(s, `/s/${invite!.token}`, '198.51.100.7')).statusCode).toBe(303);
  });

  it('cannot be sidestepped with a forged X-Forwarded-For: without a proxy configured the header is ignored', async () => {
    const s = await start();
    await s.survey('owb-2024', people(1));
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await get(s, `/s/wrong-token-${i}-xxxxxxxxxxxxxxxx`, '198.51.100.7', { 'x-forwarded-for': randomAddress() })).statusCode);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });

  it('behind a proxy that appends the real address, keys on that address, whatever the client wrote before it', async () => {
    const s = await start({ trustProxy: 1 });
    await s.survey('owb-2024', people(1));
    const statuses = [];
    // The proxy (10.0.0.1) appends the address it saw (198.51.100.7) to what the client sent.
    for (let i = 0; i < 12; i++) statuses.push((await get(s, `/s/wrong-token-${i}-xxxxxxxxxxxxxxxx`, '10.0.0.1', { 'x-forwarded-for': `${randomAddress()}, 198.51.100.7` })).statusCode);
    expect(statuses.slice(10)).toEqual([429, 429]);
    // Someone else behind the same proxy still gets in.
    expect((await get(s, '/s/wrong-token-other-xxxxxxxxxxxxxxxx', '10.0.0.1', { 'x-forwarded-for': '198.51.100.9' })).statusCode).toBe(404);
  });

  it('limits failed typed codes from everyone together; links still open', async () => {
    const s = await start({ codeFailuresPerMinuteOverall: 20 });
    const [invite] = await s.survey('owb-2024', people(1));
    const typeCode = async (code: string, remoteAddress: string) => {
      const page = await get(s, '/', remoteAddress);
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
      const cookie = [page.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]).join('; ');
      return s.app.inject({ method: 'POST', url: '/start', remoteAddress, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrf, code }).toString() });
    };
    // Twenty failures, each from another address (under the limit per address).
    for (let i = 0; i < 20; i++) expect((await typeCode('AAAA-AAAA-AAAA-AAAA', `192.0.2.${i + 1}`)).statusCode).toBe(400);
    expect((await typeCode(formatCode(invite!.code), '192.0.2.200')).statusCode).toBe(429);
    expect((await get(s, `/s/${invite!.token}`, '192.0.2.200')).statusCode).toBe(303);
  });
});

describe('admin sign-in', () => {
  const signIn = async (s: TestServer, email: string, password: string, remoteAddress: string) => {
    const page = await get(s, '/admin/login', remoteAddress);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const cookie = [page.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]).join('; ');
    return s.app.inject({ method: 'POST', url: '/admin/login', remoteAddress, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ _csrf: csrf, email, password }).toString() });
  };

  it('counts failures per account as well as per address: an attack from many addresses on one account is refused', async () => {
    const s = await start({ loginAttemptsPerMinute: 5 });
    await upsertAccount(s.app.db, 'fw@bureau.test', await hashPassword('correct horse battery'), 'fieldwork', s.clock.now);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await signIn(s, 'fw@bureau.test', `guess-${i}-xxxxxxxx`, `192.0.2.${i + 1}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // Refused without hashing or an audit row: six attempts, five rows.
    const rows = await s.app.db.selectFrom('audit_log').select('action').where('action', '=', 'sign-in failed').execute();
    expect(rows).toHaveLength(5);
    // Another account from a fresh address is not affected; successful sign-ins do not count.
    await upsertAccount(s.app.db, 'an@bureau.test', await hashPassword('correct horse battery'), 'analyst', s.clock.now);
    for (let i = 0; i < 6; i++) expect((await signIn(s, 'an@bureau.test', 'correct horse battery', '192.0.2.100')).statusCode).toBe(303);
  });
});

describe('TRUST_PROXY', () => {
  const base = { DATABASE_PATH: '/tmp/rate-limits-env/enquete.sqlite', SERVER_SECRET: 'rate-limits-test-secret-of-sufficient-length' };
  it('is off unless set: the number of proxies, or their addresses', () => {
    expect(configFromEnvironment(base).trustProxy).toBe(false);
    expect(configFromEnvironment({ ...base, TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(configFromEnvironment({ ...base, TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,::1' }).trustProxy).toEqual(['10.0.0.1', '10.1.0.0/16', '::1']);
  });

  it('refuses what is neither, saying so', () => {
    expect(() => configFromEnvironment({ ...base, TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => configFromEnvironment({ ...base, TRUST_PROXY: '10.0.0.1, proxy.local' })).toThrow(/TRUST_PROXY: proxy.local is not an IP address or CIDR range/);
    expect(() => configFromEnvironment({ ...base, TRUST_PROXY: '10.0.0.0/33' })).toThrow(ConfigError);
  });
});

describe('password hashing under a flood', () => {
  it('hashes one at a time with a short queue, and refuses the rest at once instead of queueing them', async () => {
    const stored = await hashPassword('correct horse battery');
    const attempts = Array.from({ length: 40 }, (_, i) => verifyPassword(`guess-${i}`, stored).then(
      (ok) => (ok ? 'accepted' : 'wrong'),
      (e: unknown) => (e instanceof HashingBusyError ? 'busy' : 'error'),
    ));
    const outcomes = await Promise.all(attempts);
    // One hashing, 32 waiting, 7 refused.
    expect(outcomes.filter((o) => o === 'wrong')).toHaveLength(33);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(7);
    // Once the queue is free, sign-ins are checked again.
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
  });
});
