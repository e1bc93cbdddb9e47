// The sender against a real mail server nobody here wrote: Postfix from Debian, started on loopback
// (tests/helpers/postfix.ts). The whole bounce loop through two of them: the bureau's relay takes
// every mail, the recipients' server refuses some afterwards, the relay's reports come back to the
// platform's SMTP endpoint, and the invitee ends up bounced. And what a real relay says: that it
// wants a login, its STARTTLS with the bureau's own CA, per-recipient 5xx and 4xx, and its 421 when
// a client connects too often. (smtp-client.test.ts scripts the odd behaviour no real server shows
// on demand.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findInviteeByEmail } from '../../server/db/invitees.ts';
import { smtpTransport } from '../../server/mail/transport.ts';
import { bounceSummary } from '../../server/usecases/bounces.ts';
import { testServer, type TestServer } from '../helpers/app.ts';
import { fieldwork } from '../helpers/fieldwork.ts';
import { postfixMissing, startPostfix, until, virtualMailboxes, type Postfix } from '../helpers/postfix.ts';

if (postfixMissing) {
  if (process.env.CI) throw new Error(`the Postfix tests cannot run: ${postfixMissing}`);
  console.warn(`skipping the Postfix tests: ${postfixMissing}`);
}

const calendar = { opens: '2024-06-03T09:00', closes: '2024-07-09', mailings: [{ id: 'invitation', kind: 'invitation', at: 'P0D' }] };
const people = (emails: string[]) => emails.map((email) => ({ email, sample: {} }));
const instances: Postfix[] = [];
const servers: TestServer[] = [];

async function postfix(...args: Parameters<typeof startPostfix>): Promise<Postfix> {
  const p = await startPostfix(...args);
  instances.push(p);
  return p;
}

async function server(options: Parameters<typeof testServer>[0] = {}): Promise<TestServer> {
  const s = await testServer(options);
  servers.push(s);
  return s;
}

afterAll(async () => {
  for (const s of servers) await s.close();
  await Promise.all(instances.map((p) => p.stop()));
});

const state = async (s: TestServer, email: string) => (await findInviteeByEmail(s.app.db, 'owb-2024', email))!.state;

describe.skipIf(postfixMissing)('through Postfix', () => {
  describe('bounces that come back later', () => {
    let mx: Postfix;
    let relay: Postfix;
    let platform: TestServer;

    beforeAll(async () => {
      // The recipients' server: refuses one address as unknown, one as spam, one mailbox is full.
      const boxes = virtualMailboxes(['gemeente.test'], { 'burgemeester@gemeente.test': 'burgemeester' });
      mx = await postfix('mx', {
        main: { ...boxes.main, smtpd_recipient_restrictions: 'check_recipient_access texthash:{dir}/refusals, permit_mynetworks, reject' },
        files: {
          ...boxes.files,
          refusals: ['wethouder@gemeente.test 550 5.1.1 No such user', 'griffier@gemeente.test 554 5.7.1 Message rejected as spam', 'raadslid@gemeente.test 452 4.2.2 Mailbox full'].join('\n') + '\n',
        },
      });
      // The platform with its SMTP endpoint for reports, where the bounce domain's mail goes (the
      // test sends itself, through the relay, below).
      const dir = mkdtempSync(join(tmpdir(), 'postfix-loop-'));
      platform = await server({
        databasePath: join(dir, 'db.sqlite'),
        mail: { smtpUrl: undefined, dir: join(dir, 'mail'), senderIntervalMs: 0, bounces: { address: 'bounces@bounce.bureau.test', listen: { host: '127.0.0.1', port: 0 } } },
      });
      // The bureau's relay: takes everything from the platform, passes it on to the recipients'
      // server, and sends its reports about the bounce domain to the platform's endpoint.
      relay = await postfix('relay', {
        main: {
          relayhost: `[127.0.0.1]:${mx.port}`,
          transport_maps: 'texthash:{dir}/transport',
          delay_warning_time: '1s',
        },
        files: { transport: `bounce.bureau.test smtp:[127.0.0.1]:${platform.app.bounceListenerPort}\n` },
      });
    });

    it('the relay takes every mail; the reports come back to the platform; the unknown address ends up bounced, the others counted', async () => {
      await platform.survey('owb-2024', people(['burgemeester@gemeente.test', 'wethouder@gemeente.test', 'griffier@gemeente.test', 'raadslid@gemeente.test']), { calendar });
      const transport = smtpTransport(`smtp://127.0.0.1:${relay.port}`);
      const { deps, run } = fieldwork(platform, transport);
      deps.returnPaths = platform.app.returnPaths;
      const report = await run();
      transport.close();
      // As in the report that filed this: the relay took all of them.
      expect(report).toMatchObject({ sent: 4, bounced: 0, failed: 0 });

      const reported = async () => {
        const { invitees } = await bounceSummary(platform.app.db, 'owb-2024');
        return invitees.hard === 1 && invitees.refused === 1 && invitees.soft === 1;
      };
      await until(reported, 'three delivery reports from the relay').catch((e: Error) => {
        throw new Error(`${e.message}\n--- relay log\n${relay.log()}\n--- platform log\n${platform.logs.join('')}`);
      });
      expect(await state(platform, 'wethouder@gemeente.test')).toBe('bounced');
      for (const email of ['burgemeester@gemeente.test', 'griffier@gemeente.test', 'raadslid@gemeente.test']) expect(await state(platform, email)).toBe('invited');
      const { reports } = await bounceSummary(platform.app.db, 'owb-2024');
      expect(reports.map((r) => [r.email, r.kind, r.status]).sort()).toEqual([
        ['griffier@gemeente.test', 'refused', '5.7.1'],
        ['raadslid@gemeente.test', 'soft', '4.2.2'],
        ['wethouder@gemeente.test', 'hard', '5.1.1'],
      ]);
      // The one that arrived carries its return path, which names no one.
      await until(() => mx.delivered('burgemeester').length === 1, 'local delivery');
      const [delivered] = mx.delivered('burgemeester');
      expect(delivered).toMatch(/^Return-Path: <bounces\+[0-9a-z]+-[0-9a-f]{16}@bounce\.bureau\.test>$/m);
    });
  });

  it('a relay that demands a login: nobody is marked bounced, and the sender says what to configure', async () => {
    const relay = await postfix('login-relay', { main: { smtpd_relay_restrictions: 'permit_sasl_authenticated, reject_unauth_destination', mynetworks: '127.0.0.2/32' } });
    const platform = await server();
    await platform.survey('owb-2024', people(Array.from({ length: 12 }, (_, i) => `raadslid${i}@gemeente.test`)), { calendar });
    const transport = smtpTransport(`smtp://127.0.0.1:${relay.port}`);
    const report = await fieldwork(platform, transport).run();
    transport.close();
    expect(report.bounced).toBe(0);
    expect(report.sent).toBe(0);
    expect(report.unavailable).toMatch(/refuses to take mail from us \(.*554 5\.7\.1 .*Relay access denied\).*check SMTP_URL \(the login/);
    const states = await platform.app.db.selectFrom('invitees').select('state').distinct().execute();
    expect(states).toEqual([{ state: 'invited' }]);
    const outbox = await platform.app.db.selectFrom('outbox').select(['status', 'attempts']).distinct().execute();
    expect(outbox).toEqual([{ status: 'pending', attempts: 0 }]);
  });

  describe("the bureau's own relay", () => {
    let relay: Postfix;
    let ca: string;

    beforeAll(async () => {
      // A test CA, and the relay's certificate for 127.0.0.1 signed by it.
      const dir = mkdtempSync(join(tmpdir(), 'postfix-ca-'));
      const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
      openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=Bureau Test CA', '-days', '2', '-keyout', 'ca.key', '-out', 'ca.pem', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
      openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=relay.bureau.test', '-keyout', 'key.pem', '-out', 'relay.csr');
      execFileSync('sh', ['-c', "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf"], { cwd: dir });
      openssl('x509', '-req', '-in', 'relay.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'cert.pem');
      ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
      const boxes = virtualMailboxes(['gemeente.test'], { 'burgemeester@gemeente.test': 'burgemeester', 'griffier@gemeente.test': 'griffier' });
      relay = await postfix('tls-relay', {
        main: {
          ...boxes.main,
          smtpd_tls_security_level: 'may',
          smtpd_tls_cert_file: join(dir, 'cert.pem'),
          smtpd_tls_key_file: join(dir, 'key.pem'),
          smtpd_tls_received_header: 'yes',
          smtpd_recipient_restrictions: 'check_recipient_access texthash:{dir}/refusals, permit_mynetworks, reject',
        },
        files: { ...boxes.files, refusals: ['wethouder@gemeente.test 550 5.1.1 No such user', 'raadslid@gemeente.test 450 4.2.2 Mailbox full, try later'].join('\n') + '\n' },
      });
    });

    it("with SMTP_CA_FILE the relay's certificate is checked against the bureau's CA and mail goes over TLS; a bad mailbox bounces, a full one is tried later", async () => {
      const platform = await server();
      await platform.survey('owb-2024', people(['burgemeester@gemeente.test', 'wethouder@gemeente.test', 'raadslid@gemeente.test']), { calendar });
      const transport = smtpTransport(`smtp://127.0.0.1:${relay.port}`, { ca });
      const report = await fieldwork(platform, transport).run();
      transport.close();
      expect(report).toMatchObject({ sent: 1, bounced: 1, retried: 1 });
      await until(() => relay.delivered('burgemeester').length === 1, 'local delivery');
      const [mail] = relay.delivered('burgemeester');
      expect(mail).toMatch(/with ESMTPS id|\(using TLSv1\.[23]/);
      expect(await state(platform, 'wethouder@gemeente.test')).toBe('bounced');
      expect(await state(platform, 'raadslid@gemeente.test')).toBe('invited');
    });

    it("without the bureau's CA the certificate is not trusted: mail waits, nobody bounces", async () => {
      const platform = await server();
      await platform.survey('owb-2024', people(['burgemeester@gemeente.test']), { calendar });
      const transport = smtpTransport(`smtp://127.0.0.1:${relay.port}`);
      const report = await fieldwork(platform, transport).run();
      transport.close();
      expect(report.sent).toBe(0);
      expect(report.unavailable).toMatch(/certificate/i);
      expect(await state(platform, 'burgemeester@gemeente.test')).toBe('invited');
    });
  });

  it('a 421 at the greeting (too many connections): the sender waits, connects again and sends everything', async () => {
    const boxes = virtualMailboxes(['gemeente.test'], { 'griffier@gemeente.test': 'griffier' });
    // One connection per 3 seconds from anyone, loopback included; the helper's own check that
    // the port is open was the first.
    const relay = await postfix('busy-relay', {
      main: { ...boxes.main, anvil_rate_time_unit: '3s', smtpd_client_connection_rate_limit: '1', smtpd_client_event_limit_exceptions: '' },
      files: boxes.files,
    });
    const platform = await server();
    await platform.survey('owb-2024', people(['griffier@gemeente.test']), { calendar });
    const transport = smtpTransport(`smtp://127.0.0.1:${relay.port}`, { reconnectAfter421Ms: [3500, 3500, 3500] });
    const report = await fieldwork(platform, transport).run();
    transport.close();
    expect(relay.log()).toMatch(/too many connections|Connection rate limit exceeded/);
    expect(report).toMatchObject({ sent: 1, bounced: 0, failed: 0 });
    await until(() => relay.delivered('griffier').length === 1, 'local delivery');
  });
});
