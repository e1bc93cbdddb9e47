// An SMTP client session (RFC 5321) for the sender: one connection, mails one after another, and
// with PIPELINING (RFC 2920) the envelope of the next mail (MAIL FROM, RCPT TO, DATA) leaves in
// the same packet as the end of the one before, so that each mail costs the server one turn
// instead of two. The end of each mail (the final dot, when the server takes it) waits for the
// mail's `finish`: the sender's record of the mail before and its check of this one. So however
// far ahead the next envelope goes, at most one mail is ever taken and not yet recorded.
//
// Written here rather than used from nodemailer, whose SMTPConnection sends one mail at a time and
// spends more of the sender's thread on each (streams, two turns a mail): with it the sender
// reached 0.2-0.35 of the SMTP server's own acceptance rate, with this over 0.5
// (scripts/bench/fieldwork.ts). It does what the sender needs and no more: plain, STARTTLS or
// implicit TLS (certificates verified by Node's TLS), AUTH PLAIN or LOGIN, SMTPUTF8 for an address
// that needs it.

import { hostname } from 'node:os';
import net from 'node:net';
import tls from 'node:tls';

export interface SmtpOptions {
  host: string;
  port: number;
  /** TLS from the start (smtps, port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  /** Never STARTTLS, even when offered (a local relay with a certificate for another name). */
  ignoreTLS: boolean;
  /** Refuse to go on without TLS. */
  requireTLS: boolean;
  /** Log in without TLS (a relay on this machine, or a network the bureau trusts). */
  allowPlaintextLogin?: boolean;
  auth?: { user: string; pass: string };
  /** Extra options for the TLS connection (a CA of the bureau's own, in tests a self-signed one). */
  tls?: tls.ConnectionOptions;
  connectionTimeoutMs?: number;
  /** How long the server may take to answer, or the connection may stay silent while a mail is under way. */
  socketTimeoutMs?: number;
}

/** A refusal or failure (its message carries the server's reply), with the command it answered and the reply's code. */
export class SmtpError extends Error {
  constructor(
    message: string,
    readonly command: string,
    readonly responseCode?: number,
  ) {
    super(message);
  }
}

interface Reply {
  code: number;
  /** All lines of the reply, joined by newlines (for error messages). */
  text: string;
}

interface Mail {
  from: string;
  to: string[];
  raw: Buffer;
  finish: Promise<unknown>;
  /** Whether `finish` has settled (either way), known without waiting for it. */
  finished: boolean;
  resolve: () => void;
  reject: (e: unknown) => void;
}

interface Waiter {
  resolve: (reply: Reply) => void;
  reject: (e: Error) => void;
}

const CRLF_DOT = Buffer.from('\r\n.');

/** Dot-stuffing (RFC 5321, 4.5.2): a line that begins with a dot gets a second one. */
export function dotStuff(raw: Buffer): Buffer {
  if (raw[0] !== 0x2e && raw.indexOf(CRLF_DOT) < 0) return raw;
  return Buffer.from(raw.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1');
}

export class SmtpSession {
  readonly #options: SmtpOptions;
  #socket!: net.Socket;
  #received = '';
  readonly #waiting: Waiter[] = [];
  #extensions = new Map<string, string>();
  #failure: Error | undefined;
  /** Mails given and not yet begun, in order. */
  readonly #pending: Mail[] = [];
  /** No mail is between its MAIL FROM and its end: the next may begin at once. */
  #idle = true;
  #taken = 0;

  private constructor(options: SmtpOptions) {
    this.#options = options;
  }

  /** Connects, greets, upgrades to TLS and logs in as the options say. */
  static async open(options: SmtpOptions): Promise<SmtpSession> {
    const session = new SmtpSession(options);
    await session.#connect();
    return session;
  }

  /** How many mails the server has taken on this connection. */
  get taken(): number {
    return this.#taken;
  }

  /** Whether the connection can take another mail (not closed by either side, no failure). */
  get usable(): boolean {
    return this.#failure === undefined;
  }

  /**
   * Sends one mail; resolves once the server has taken it. Mails given while one is under way
   * follow it, in order. The end of each waits for its `finish`; if that rejects, the mail is
   * abandoned unfinished (the connection is closed, which the server takes as: discard it), and
   * this rejects with that reason.
   */
  send(envelope: { from: string; to: string[] }, raw: Buffer, finish: Promise<unknown> = Promise.resolve()): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      // An address with a line break or angle bracket would add commands of its own.
      const bad = [envelope.from, ...envelope.to].find((a) => /[\r\n<>]/.test(a));
      if (bad !== undefined) return reject(new SmtpError(`not an address for the envelope: ${JSON.stringify(bad)}`, 'API'));
      const mail: Mail = { from: envelope.from, to: envelope.to, raw, finish, finished: false, resolve, reject };
      const settled = () => (mail.finished = true);
      finish.then(settled, settled);
      this.#pending.push(mail);
      if (this.#idle) this.#begin();
    });
  }

  /** Says goodbye (QUIT) and closes; mails still waiting fail. */
  close(): void {
    if (!this.#failure && this.#socket.writable) this.#socket.end('QUIT\r\n');
    this.#fail(new SmtpError('the connection was closed', 'CONN'));
    this.#socket.destroy();
  }

  /** Begins the next mail, if any; after a failure of the connection, none can. */
  #begin(): void {
    this.#idle = true;
    if (this.#failure) {
      for (const mail of this.#pending.splice(0)) mail.reject(this.#failure);
      return;
    }
    const mail = this.#pending.shift();
    if (!mail) return;
    this.#idle = false;
    let begunNext = false;
    const beginNext = () => {
      if (begunNext) return;
      begunNext = true;
      this.#begin();
    };
    this.#transact(mail, beginNext).then(
      () => {
        mail.resolve();
        beginNext();
      },
      (e: unknown) => {
        mail.reject(e);
        beginNext();
      },
    );
  }

  /** One mail: its envelope, its data, and, once `finish` allows, its end; `beginNext` lets the next one go. */
  async #transact(mail: Mail, beginNext: () => void): Promise<void> {
    const needsUtf8 = /[^\x00-\x7f]/.test(mail.from + mail.to.join(''));
    // RFC 6531: an address beyond ASCII only with SMTPUTF8; without it the server would take the
    // bytes for something else. Refused here, for this address, with the reason.
    if (needsUtf8 && !this.#extensions.has('SMTPUTF8')) {
      const address = [mail.from, ...mail.to].find((a) => /[^\x00-\x7f]/.test(a))!;
      throw new SmtpError(`${address} needs SMTPUTF8 (RFC 6531), which ${this.#options.host} does not offer`, address === mail.from ? 'MAIL FROM' : 'RCPT TO', 553);
    }
    const utf8 = needsUtf8 ? ' SMTPUTF8' : '';
    const commands = [`MAIL FROM:<${mail.from}>${utf8}`, ...mail.to.map((to) => `RCPT TO:<${to}>`), 'DATA'];
    const names = ['MAIL FROM', ...mail.to.map(() => 'RCPT TO'), 'DATA'];
    const replies: Reply[] = [];
    if (this.#extensions.has('PIPELINING')) {
      const pending = commands.map(() => this.#reply());
      this.#socket.write(commands.map((c) => `${c}\r\n`).join(''));
      for (const result of await Promise.allSettled(pending)) {
        if (result.status === 'rejected') {
          // The server closed the connection after a reply that said why (421): report that one.
          if (replies.at(-1)?.code === 421) break;
          throw result.reason;
        }
        replies.push(result.value);
      }
    } else {
      for (const command of commands) {
        const reply = this.#reply();
        this.#socket.write(`${command}\r\n`);
        replies.push(await reply);
        if (replies.at(-1)!.code >= 400) break;
      }
    }
    // The first refusal is the one to report: the sender, a recipient, or else DATA itself.
    const refused = replies.findIndex((r, i) => (i === commands.length - 1 ? r.code !== 354 : r.code >= 300));
    if (refused >= 0 || replies.length < commands.length) {
      const at = refused >= 0 ? refused : replies.length - 1;
      const reply = replies[at]!;
      const error = new SmtpError(`${names[at]} refused: ${reply.text}`, names[at]!, reply.code);
      // A server that took DATA although it refused the sender or a recipient waits for data;
      // an empty message would reach whoever it did take. It cannot be trusted: hang up.
      if (replies.length === commands.length && replies.at(-1)!.code === 354) this.#closeWith(new SmtpError('the connection was closed after DATA was taken without a sender or recipient', 'DATA'));
      // Otherwise the transaction the server may still hold open (a sender without a recipient)
      // ends here, before the next mail begins.
      else if (!this.#failure) await this.#command('RSET', 'RSET', 0).catch(() => {});
      throw error;
    }
    // The data goes out now, except its end, which waits for `finish`; if that has come already,
    // the data, its end and the envelope of the next mail go out together (one write).
    const data = dotStuff(mail.raw);
    const early = !mail.finished;
    if (early) this.#socket.write(data);
    try {
      await mail.finish;
    } catch (e) {
      // Abandoned: closing the connection in the middle of the data makes the server drop it.
      this.#closeWith(new SmtpError('the connection was closed to abandon a mail', 'ABANDONED'));
      throw e;
    }
    if (this.#failure) throw this.#failure;
    const taken = this.#reply();
    // With PIPELINING the envelope of the next mail goes out with this end (one write); without
    // it, only once this mail's reply is in (RFC 2920: a client pipelines only when offered).
    const pipelining = this.#extensions.has('PIPELINING');
    this.#socket.cork();
    if (!early) this.#socket.write(data);
    this.#socket.write(data.subarray(-2).toString('latin1') === '\r\n' ? '.\r\n' : '\r\n.\r\n');
    if (pipelining) beginNext();
    this.#socket.uncork();
    const reply = await taken;
    if (Math.floor(reply.code / 100) !== 2) throw new SmtpError(`message refused: ${reply.text}`, 'DATA', reply.code);
    this.#taken++;
  }

  async #connect(): Promise<void> {
    const o = this.#options;
    const connectionTimeout = o.connectionTimeoutMs ?? 30_000;
    this.#socket = await new Promise<net.Socket>((resolve, reject) => {
      const socket = o.secure ? tls.connect({ host: o.host, port: o.port, servername: net.isIP(o.host) ? undefined : o.host, ...o.tls }) : net.connect({ host: o.host, port: o.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new SmtpError(`no connection to ${o.host}:${o.port} within ${connectionTimeout / 1000} s`, 'CONN'));
      }, connectionTimeout);
      socket.once(o.secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (e) => {
        clearTimeout(timer);
        reject(new SmtpError(`cannot connect to ${o.host}:${o.port}: ${e.message}`, 'CONN'));
      });
    });
    this.#listen();
    const greeting = await this.#reply();
    if (greeting.code !== 220) throw this.#closeWith(new SmtpError(`the server turned us away: ${greeting.text}`, 'CONN', greeting.code));
    await this.#hello();
    if (!o.secure && !o.ignoreTLS && this.#extensions.has('STARTTLS')) {
      await this.#command('STARTTLS', 'STARTTLS', 220);
      // From here on the TLS socket carries the session; the plain one only carries it.
      const plain = this.#socket;
      plain.removeAllListeners();
      plain.setTimeout(0);
      plain.on('error', () => {});
      this.#socket = await new Promise<net.Socket>((resolve, reject) => {
        // host: what the certificate is checked against (without it, Node checks "localhost"
        // when the server is given as an IP address); servername (SNI) only for a name.
        const secured = tls.connect({ socket: plain, host: o.host, servername: net.isIP(o.host) ? undefined : o.host, ...o.tls }, () => resolve(secured));
        secured.once('error', (e) => reject(this.#closeWith(new SmtpError(`TLS with ${o.host}: ${e.message}`, 'STARTTLS'))));
      });
      this.#socket.removeAllListeners('error');
      this.#listen();
      await this.#hello();
    } else if (o.requireTLS && !o.secure) {
      throw this.#closeWith(new SmtpError(`${o.host} does not offer STARTTLS, and TLS is required`, 'STARTTLS'));
    }
    if (o.auth) {
      // A password goes in plain text (PLAIN, LOGIN) only over TLS, or when told to.
      const encrypted = o.secure || this.#socket instanceof tls.TLSSocket;
      if (!encrypted && !o.allowPlaintextLogin) {
        throw this.#closeWith(new SmtpError(`${o.host} offers no STARTTLS, and the login would go in plain text: use smtps:// or a relay with STARTTLS, or add ?allowPlaintextLogin=true to SMTP_URL on a network you trust`, 'AUTH'));
      }
      await this.#login(o.auth);
    }
  }

  async #hello(): Promise<void> {
    const name = hostname() || 'localhost';
    const reply = await this.#command(`EHLO ${name}`, 'EHLO', 0);
    if (reply.code !== 250) {
      await this.#command(`HELO ${name}`, 'HELO');
      this.#extensions = new Map();
      return;
    }
    this.#extensions = new Map(
      reply.text
        .split('\n')
        .slice(1)
        .map((line) => {
          // "250-PIPELINING", "250 AUTH PLAIN LOGIN"
          const [keyword, ...rest] = line.slice(4).trim().split(/\s+/);
          return [keyword!.toUpperCase(), rest.join(' ')];
        }),
    );
  }

  async #login({ user, pass }: { user: string; pass: string }): Promise<void> {
    const mechanisms = (this.#extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/);
    if (mechanisms.includes('PLAIN')) {
      await this.#command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${pass}`).toString('base64')}`, 'AUTH PLAIN', 235);
    } else if (mechanisms.includes('LOGIN')) {
      await this.#command('AUTH LOGIN', 'AUTH LOGIN', 334);
      await this.#command(Buffer.from(user).toString('base64'), 'AUTH LOGIN', 334);
      await this.#command(Buffer.from(pass).toString('base64'), 'AUTH LOGIN', 235);
    } else {
      throw this.#closeWith(new SmtpError(`${this.#options.host} offers no login this client knows (PLAIN, LOGIN): ${mechanisms.join(' ') || 'none'}`, 'AUTH'));
    }
  }

  /** Sends a command and waits for its reply: `expect` is the code it must have (0: any). */
  async #command(command: string, name: string, expect = 250): Promise<Reply> {
    const reply = this.#reply();
    this.#socket.write(`${command}\r\n`);
    const r = await reply;
    if (expect && r.code !== expect) throw this.#closeWith(new SmtpError(`${name} refused: ${r.text}`, name, r.code));
    return r;
  }

  #reply(): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<Reply>((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  #listen(): void {
    const socket = this.#socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.#options.socketTimeoutMs ?? 60_000, () => {
      // Silence while a reply is awaited; an idle connection between runs may stay quiet.
      if (this.#waiting.length > 0) {
        this.#fail(new SmtpError(`${this.#options.host} did not answer within ${(this.#options.socketTimeoutMs ?? 60_000) / 1000} s`, 'CONN'));
        socket.destroy();
      }
    });
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e) => this.#fail(new SmtpError(`connection to ${this.#options.host}: ${e.message}`, 'CONN')));
    socket.on('close', () => this.#fail(new SmtpError(`${this.#options.host} closed the connection`, 'CONN')));
  }

  #onData(chunk: Buffer): void {
    this.#received += chunk.toString('utf8');
    let lines: string[] = [];
    for (let end = this.#received.indexOf('\r\n'); end >= 0; end = this.#received.indexOf('\r\n')) {
      const line = this.#received.slice(0, end);
      this.#received = this.#received.slice(end + 2);
      lines.push(line);
      // "250-..." goes on, "250 ..." (or "250") ends a reply.
      if (line.length >= 3 && line[3] !== '-') {
        const code = Number(line.slice(0, 3));
        const text = lines.join('\n');
        lines = [];
        const waiter = this.#waiting.shift();
        if (waiter) waiter.resolve({ code, text });
        else if (code === 421) this.#fail(new SmtpError(`${this.#options.host} is closing the connection: ${text}`, 'CONN', code));
      }
    }
    if (lines.length > 0) this.#received = `${lines.join('\r\n')}\r\n${this.#received}`;
  }

  /** Everything waiting fails with `error` (the first failure is kept). */
  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#failure);
  }

  #closeWith(error: Error): Error {
    this.#fail(error);
    this.#socket.destroy();
    return error;
  }
}
