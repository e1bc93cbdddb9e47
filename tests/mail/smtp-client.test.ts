// The sender's SMTP session: the envelope of the next mail goes out with the end of the one
// before (PIPELINING), and what a real server does with that (smtp-server, the same code base as
// nodemailer) checks the rest: one command at a time without PIPELINING, a refused recipient on a
// connection that goes on, STARTTLS before AUTH, no mail without TLS when TLS is required, and no
// empty message to a server that takes DATA without a recipient.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { SmtpSession, type SmtpOptions } from '../../server/mail/smtp-client.ts';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const message = (n: number) => Buffer.from(`Subject: mail ${n}\r\n\r\nBeste lezer,\r\n.punt vooraan\r\n`);
const envelope = (to: string) => ({ from: 'onderzoek@bureau.test', to: [to] });

/** A real SMTP server on loopback that keeps what it takes. */
async function realServer(options: Partial<SMTPServerOptions> = {}) {
  const taken: { to: string[]; text: string; secure: boolean; user?: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('onbekend')) return callback(Object.assign(new Error('5.1.1 user unknown'), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        taken.push({ to: session.envelope.rcptTo.map((r) => r.address), text: Buffer.concat(chunks).toString(), secure: session.secure, ...(session.user ? { user: String(session.user) } : {}) });
        callback();
      });
    },
    ...options,
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, taken };
}

/** A self-signed certificate for localhost, or another name (scripts/install-system-packages.sh installs openssl). */
function certificate(subjectAltName = 'DNS:localhost'): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'smtp-tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', `subjectAltName=${subjectAltName}`, '-days', '2', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

const options = (port: number, more: Partial<SmtpOptions> = {}): SmtpOptions => ({ host: '127.0.0.1', port, secure: false, ignoreTLS: false, requireTLS: false, ...more });

async function open(o: SmtpOptions): Promise<SmtpSession> {
  const session = await SmtpSession.open(o);
  closers.unshift(() => session.close());
  return session;
}

/**
 * A scripted server speaking just enough SMTP, to watch what a real one hides: `reply` decides
 * each answer (undefined: the default one).
 */
async function scriptedServer(reply: (command: string, state: { received: string }) => string | undefined | Promise<string | undefined>) {
  const log: string[] = [];
  let socket: Socket | undefined;
  const server: Server = createServer((s) => {
    socket = s;
    const state = { received: '' };
    let pending = '';
    let inData = false;
    let busy = Promise.resolve();
    s.write('220 scripted\r\n');
    s.on('data', (chunk) => {
      state.received += chunk.toString('latin1');
      pending += chunk.toString('latin1');
      busy = busy.then(async () => {
        for (;;) {
          if (inData) {
            const end = pending.indexOf('\r\n.\r\n');
            if (end < 0) return;
            log.push('<data>');
            pending = pending.slice(end + 5);
            inData = false;
            s.write(`${(await reply('.', state)) ?? '250 queued'}\r\n`);
            continue;
          }
          const nl = pending.indexOf('\r\n');
          if (nl < 0) return;
          const command = pending.slice(0, nl);
          pending = pending.slice(nl + 2);
          log.push(command);
          const answer = (await reply(command, state)) ?? (command.startsWith('EHLO') ? '250-scripted\r\n250 PIPELINING' : command === 'DATA' ? '354 go ahead' : command === 'QUIT' ? '221 bye' : '250 ok');
          if (answer.startsWith('354')) inData = true;
          s.write(`${answer}\r\n`);
        }
      });
    });
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => {
    socket?.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as AddressInfo).port, log, closed: () => socket?.destroyed || socket?.readableEnded };
}

describe('the SMTP session', () => {
  it('sends the envelope of the next mail together with the end of the one before, and ends each only after its finish', async () => {
    let pipelined: boolean | undefined;
    const server = await scriptedServer(async (command, state) => {
      // The end of the first mail is answered only once the next envelope has come (or after a second).
      if (command === '.' && pipelined === undefined) {
        const since = Date.now();
        while (!state.received.includes('RCPT TO:<tweede@gemeente.test>') && Date.now() - since < 1000) await new Promise((r) => setTimeout(r, 5));
        pipelined = state.received.includes('RCPT TO:<tweede@gemeente.test>');
      }
      return undefined;
    });
    const session = await open(options(server.port));
    let release!: () => void;
    const secondMayEnd = new Promise<void>((r) => (release = r));
    const first = session.send(envelope('eerste@gemeente.test'), message(1));
    const second = session.send(envelope('tweede@gemeente.test'), message(2), secondMayEnd);
    await first;
    expect(pipelined).toBe(true);
    expect(server.log).toEqual(['EHLO ' + server.log[0]!.slice(5), 'MAIL FROM:<onderzoek@bureau.test>', 'RCPT TO:<eerste@gemeente.test>', 'DATA', '<data>', 'MAIL FROM:<onderzoek@bureau.test>', 'RCPT TO:<tweede@gemeente.test>', 'DATA']);
    // The second mail is on the server's side but for its end, which waits for its finish.
    await new Promise((r) => setTimeout(r, 50));
    expect(server.log.filter((l) => l === '<data>')).toHaveLength(1);
    release();
    await second;
    expect(server.log.filter((l) => l === '<data>')).toHaveLength(2);
  });

  it('goes on after a refused recipient: the next mail arrives whole, and nobody gets an empty one', async () => {
    const server = await realServer();
    const session = await open(options(server.port));
    const results = await Promise.allSettled([
      session.send(envelope('een@gemeente.test'), message(1)),
      session.send(envelope('onbekend@gemeente.test'), message(2)),
      session.send(envelope('drie@gemeente.test'), message(3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ command: 'RCPT TO', responseCode: 550 });
    expect(server.taken.map((t) => [t.to, t.text.split('\r\n')[0]])).toEqual([
      [['een@gemeente.test'], 'Subject: mail 1'],
      [['drie@gemeente.test'], 'Subject: mail 3'],
    ]);
    // Dot-stuffed on the way, restored by the server.
    expect(server.taken[1]!.text).toContain('\r\n.punt vooraan\r\n');
  });

  it('sends one command at a time to a server without PIPELINING', async () => {
    const server = await realServer({ hidePIPELINING: true } as Partial<SMTPServerOptions>);
    const session = await open(options(server.port));
    await Promise.all([session.send(envelope('een@gemeente.test'), message(1)), session.send(envelope('twee@gemeente.test'), message(2))]);
    expect(server.taken.map((t) => t.to[0])).toEqual(['een@gemeente.test', 'twee@gemeente.test']);
  });

  it('upgrades to TLS with STARTTLS before it logs in (PLAIN, or LOGIN where only that is offered), verifying the certificate', async () => {
    const { key, cert } = certificate();
    for (const authMethods of [['PLAIN', 'LOGIN'], ['LOGIN']]) {
      const server = await realServer({
        key,
        cert,
        disabledCommands: [],
        authOptional: false,
        authMethods,
        onAuth(auth, _session, callback) {
          if (auth.username === 'bureau' && auth.password === 'geheim wachtwoord') return callback(null, { user: `${auth.method} ${auth.username}` });
          callback(Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 }));
        },
      });
      const tls = { ca: cert, servername: 'localhost' };
      const session = await open(options(server.port, { auth: { user: 'bureau', pass: 'geheim wachtwoord' }, tls }));
      await session.send(envelope('een@gemeente.test'), message(1));
      expect(server.taken.map((t) => [t.secure, t.user])).toEqual([[true, `${authMethods[0]} bureau`]]);
      // A wrong password is refused, with the server's answer.
      await expect(SmtpSession.open(options(server.port, { auth: { user: 'bureau', pass: 'fout' }, tls }))).rejects.toMatchObject({ responseCode: 535 });
      // A certificate nobody vouches for is refused.
      await expect(SmtpSession.open(options(server.port, { auth: { user: 'bureau', pass: 'geheim wachtwoord' } }))).rejects.toThrow(/TLS/);
    }
  });

  it('checks the certificate of a relay given by IP address against that address, not "localhost"', async () => {
    const { key, cert } = certificate('IP:127.0.0.1');
    const server = await realServer({ key, cert, disabledCommands: ['AUTH'] });
    const session = await open(options(server.port, { tls: { ca: cert } }));
    await session.send(envelope('een@gemeente.test'), message(1));
    expect(server.taken.map((t) => t.secure)).toEqual([true]);
    // A certificate for localhost does not do for 127.0.0.1.
    const other = certificate();
    const wrong = await realServer({ key: other.key, cert: other.cert, disabledCommands: ['AUTH'] });
    await expect(SmtpSession.open(options(wrong.port, { tls: { ca: other.cert } }))).rejects.toThrow(/TLS.*(IP|127\.0\.0\.1)/);
  });

  it('never sends a password in plain text unless told to', async () => {
    const server = await realServer({
      disabledCommands: ['STARTTLS'],
      authOptional: false,
      onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
    });
    await expect(SmtpSession.open(options(server.port, { auth: { user: 'bureau', pass: 'geheim' } }))).rejects.toThrow(/plain text.*allowPlaintextLogin/);
    const session = await open(options(server.port, { auth: { user: 'bureau', pass: 'geheim' }, allowPlaintextLogin: true }));
    await session.send(envelope('een@gemeente.test'), message(1));
    expect(server.taken).toHaveLength(1);
  });

  it('refuses an address beyond ASCII when the server does not offer SMTPUTF8, saying so, and sends nothing of it', async () => {
    const server = await scriptedServer(() => undefined);
    const session = await open(options(server.port));
    await expect(session.send(envelope('jöran@gemeente.test'), message(1))).rejects.toMatchObject({ responseCode: 553, message: expect.stringMatching(/jöran@gemeente.test needs SMTPUTF8/) });
    expect(server.log.some((l) => l.includes('jöran') || l.includes('j\u00c3'))).toBe(false);
    // The session goes on with the next mail.
    await session.send(envelope('twee@gemeente.test'), message(2));
    expect(server.log).toContain('RCPT TO:<twee@gemeente.test>');
  });

  it('does not send the next envelope before the reply to the mail before when the server does not offer PIPELINING', async () => {
    let early: boolean | undefined;
    const server = await scriptedServer(async (command, state) => {
      if (command.startsWith('EHLO')) return '250 scripted';
      if (command === '.' && early === undefined) {
        await new Promise((r) => setTimeout(r, 200));
        early = state.received.includes('MAIL FROM:<onderzoek@bureau.test>') && state.received.split('MAIL FROM').length > 2;
      }
      return undefined;
    });
    const session = await open(options(server.port));
    await Promise.all([session.send(envelope('een@gemeente.test'), message(1)), session.send(envelope('twee@gemeente.test'), message(2))]);
    expect(early).toBe(false);
    expect(server.log.filter((l) => l.startsWith('RCPT TO'))).toEqual(['RCPT TO:<een@gemeente.test>', 'RCPT TO:<twee@gemeente.test>']);
  });

  it('refuses to go on without TLS when TLS is required and the server offers no STARTTLS', async () => {
    const server = await realServer();
    await expect(SmtpSession.open(options(server.port, { requireTLS: true }))).rejects.toMatchObject({ command: 'STARTTLS' });
    expect(server.taken).toEqual([]);
  });

  it('hangs up on a server that takes DATA after refusing the recipient, rather than send it an empty message', async () => {
    const server = await scriptedServer((command) => (command.startsWith('RCPT') ? '550 no such user' : undefined));
    const session = await open(options(server.port));
    await expect(session.send(envelope('onbekend@gemeente.test'), message(1))).rejects.toMatchObject({ command: 'RCPT TO', responseCode: 550 });
    await new Promise((r) => setTimeout(r, 50));
    expect(server.log).not.toContain('<data>');
    expect(server.closed()).toBe(true);
    expect(session.usable).toBe(false);
  });
});
