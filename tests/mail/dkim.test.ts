// DKIM signing: every mail the sender delivers carries a signature that a receiving server
// verifies against the key published in DNS (here mailauth, the verifier of a real mail server,
// with the DNS answer given), covering the unsubscribe headers; a changed message fails; and a
// configuration that cannot sign is refused at start with what is wrong.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnvironment } from '../../server/environment.ts';
import { cli } from '../helpers/cli.ts';
import { createMailer } from '../../server/mail/setup.ts';
import { signingTransport } from '../../server/mail/dkim.ts';
import type { MailTransport, OutgoingMail } from '../../server/mail/transport.ts';
import { testServer, type TestServer } from '../helpers/app.ts';
import { fieldwork } from '../helpers/fieldwork.ts';
import { startSmtp, type TestSmtp } from '../helpers/smtp.ts';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
// The TXT record the bureau publishes at enquete2024._domainkey.bureau.test.
const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
// What mailauth reports per signature (its type declarations leave some of these out).
type Verified = { status: { result: string }; signingDomain?: string; selector?: string; algo?: string; signingHeaders?: { keys: string } };
const verify = async (raw: string) => (await dkimVerify(Buffer.from(raw), { resolver })).results as unknown as Verified[];

const resolver = async (name: string, type: string) => {
  if (type === 'TXT' && name === 'enquete2024._domainkey.bureau.test') return [[record]];
  throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
};

let server: TestServer;
let smtp: TestSmtp;
beforeAll(async () => {
  server = await testServer({ start: new Date('2024-06-03T09:00:00+02:00') });
  smtp = await startSmtp();
});
afterAll(async () => {
  await smtp.close();
  await server.close();
});

describe('DKIM', () => {
  it('signs every mail so that the receiver verifies it, the unsubscribe headers included; a changed mail fails', async () => {
    const { transport } = createMailer({ smtpUrl: smtp.url, dir: '', senderIntervalMs: 0, dkim: { domain: 'bureau.test', selector: 'enquete2024', privateKey: privatePem } });
    expect(transport.description).toContain('DKIM-signed for bureau.test (selector enquete2024)');
    await server.survey('owb-2024', [
      { email: 'j.jansen@gemeente-a.nl', name: 'Jan Jansen', sample: { functie: 'burgemeester' } },
      { email: 'p.pieters@gemeente-b.nl', name: 'Piet Pieters', sample: { functie: 'raadslid' } },
    ]);
    expect(await fieldwork(server, transport).run()).toMatchObject({ sent: 2 });
    transport.close();
    expect(smtp.received).toHaveLength(2);
    for (const { raw } of smtp.received) {
      const results = await verify(raw);
      expect(results.map((r) => [r.status.result, r.signingDomain, r.selector, r.algo])).toEqual([['pass', 'bureau.test', 'enquete2024', 'rsa-sha256']]);
      expect(results[0]!.signingHeaders!.keys.toLowerCase().split(': ')).toEqual(expect.arrayContaining(['from', 'subject', 'to', 'message-id', 'list-unsubscribe', 'list-unsubscribe-post']));
    }
    const changed = smtp.received[0]!.raw.replace('Subject: Uitnodiging', 'Subject: Herinnering');
    expect(changed).not.toBe(smtp.received[0]!.raw);
    expect((await verify(changed))[0]!.status.result).toBe('fail');
  });

  it('signs a whole batch sent at full speed: every mail verified, to its own recipient, once', async () => {
    const { transport } = createMailer({ smtpUrl: smtp.url, dir: '', senderIntervalMs: 0, dkim: { domain: 'bureau.test', selector: 'enquete2024', privateKey: privatePem } });
    const before = smtp.received.length;
    const many = Array.from({ length: 30 }, (_, i) => ({ email: `raadslid${i}@gemeente.nl`, name: `Raadslid ${i}`, sample: { functie: 'raadslid' } }));
    await server.survey('owb-2024', many, { id: 'snel', extra: { sending: { ratePerMinute: 1_000_000 } } });
    expect(await fieldwork(server, transport).run({ surveyId: 'snel' })).toMatchObject({ sent: 30 });
    transport.close();
    const received = smtp.received.slice(before);
    expect(received.map((r) => r.envelopeTo[0])).toEqual(many.map((p) => p.email));
    for (const { raw, envelopeTo } of received) {
      expect((await verify(raw))[0]!.status.result).toBe('pass');
      expect(raw).toContain(`<${envelopeTo[0]}>`);
    }
  });

  it('hands the mails to the transport in the order they came, whichever signature is done first', async () => {
    const order: string[] = [];
    const inner: MailTransport = { description: 'memory', send: async (mail) => void order.push(mail.rendered.to.address), close: () => {} };
    // The first signature takes longest.
    const slowFirst = async (raw: Buffer) => (await new Promise((r) => setTimeout(r, raw.includes('een@') ? 30 : 1)), raw);
    const signing = signingTransport(inner, { domain: 'bureau.test', selector: 'enquete2024', privateKey: privatePem }, slowFirst);
    const mail = (to: string): OutgoingMail => ({ rendered: { messageId: `<${to}>`, to: { name: '', address: to }, subject: 'x' }, message: { envelope: { from: 'a@bureau.test', to: [to] }, raw: Buffer.from(`To: ${to}\r\n\r\nx\r\n`) } });
    await Promise.all(['een@gemeente.nl', 'twee@gemeente.nl', 'drie@gemeente.nl'].map((to) => signing.send(mail(to))));
    expect(order).toEqual(['een@gemeente.nl', 'twee@gemeente.nl', 'drie@gemeente.nl']);
  });

  it('is refused at start, saying what is wrong, when it could not sign', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dkim-'));
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const env = (more: Record<string, string>) => ({ DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'x'.repeat(40), ...more });
    // Checked when the settings are read, so the server and every survey command stop at start.
    const mailerFor = (more: Record<string, string>) => () => createMailer(configFromEnvironment(env(more)).mail!);
    const full = { DKIM_DOMAIN: 'bureau.test', DKIM_SELECTOR: 'enquete2024', DKIM_PRIVATE_KEY_FILE: file('key.pem', privatePem) };
    expect(mailerFor(full)().transport.description).toMatch(/DKIM-signed for bureau\.test/);
    expect(mailerFor({})().transport.description).not.toMatch(/DKIM/);
    const cases: [Record<string, string>, string][] = [
      [{ DKIM_DOMAIN: 'bureau.test' }, 'DKIM signing needs DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE; DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE are not set'],
      [{ ...full, DKIM_PRIVATE_KEY_FILE: join(dir, 'nowhere.pem') }, `DKIM_PRIVATE_KEY_FILE: cannot read ${join(dir, 'nowhere.pem')} (ENOENT)`],
      [{ ...full, DKIM_PRIVATE_KEY_FILE: file('public.pem', publicKey.export({ type: 'spki', format: 'pem' }).toString()) }, 'DKIM_PRIVATE_KEY_FILE: not a private key in PEM form'],
      [{ ...full, DKIM_PRIVATE_KEY_FILE: file('ed25519.pem', ed25519) }, 'DKIM_PRIVATE_KEY_FILE: an RSA key is needed (rsa-sha256, which every receiver checks), not ed25519'],
      [{ ...full, DKIM_DOMAIN: 'bureau' }, 'DKIM_DOMAIN: "bureau" is not a domain name'],
      [{ ...full, DKIM_SELECTOR: 'enquete 2024' }, 'DKIM_SELECTOR: "enquete 2024" is not a selector (letters, digits, - and .)'],
    ];
    for (const [more, message] of cases) expect(mailerFor(more), message).toThrow(message);
  });

  it('stops a survey command with the reason, not a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dkim-cli-'));
    let env: NodeJS.ProcessEnv = { DATABASE_PATH: join(dir, 'db.sqlite'), SERVER_SECRET: 'x'.repeat(40), DKIM_DOMAIN: 'bureau.test' };
    const survey = cli(() => env);
    expect(await survey('list')).toMatchObject({ code: 1, err: ['DKIM signing needs DKIM_DOMAIN, DKIM_SELECTOR, DKIM_PRIVATE_KEY_FILE; DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE are not set'] });
    writeFileSync(join(dir, 'key.pem'), 'not a key');
    env = { ...env, DKIM_SELECTOR: 'enquete2024', DKIM_PRIVATE_KEY_FILE: join(dir, 'key.pem') };
    const listed = await survey('list');
    expect(listed.code).toBe(1);
    expect(listed.err[0]).toMatch(/^DKIM_PRIVATE_KEY_FILE: not a private key in PEM form/);
  });
});
