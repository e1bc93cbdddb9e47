// Where mail goes: an SMTP server (SMTP_URL, through nodemailer's SMTP connection), or, on the
// embedded default, .eml files in a folder, so the demo shows exactly what would have been sent.
// Both send the message composed in mime.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { ComposedMessage } from './mime.ts';
import type { RenderedMail } from './render.ts';

/** A mail ready to go: the message, and what it says of itself (for the outbox, logs and tests). */
export interface OutgoingMail {
  rendered: Pick<RenderedMail, 'messageId' | 'to' | 'subject'>;
  message: ComposedMessage;
}

export interface MailTransport {
  /**
   * Transmits one mail. With `finish`, all of it but its end goes out at once, and the end (the
   * moment the server takes the mail) only once `finish` has resolved; if `finish` rejects, the
   * mail is abandoned unfinished, which a server discards (RFC 5321, 4.1.1.4), and send rejects
   * with that reason. The sender transmits the next mail this way while the outcome of the one
   * before is being written to disk.
   */
  send(mail: OutgoingMail, finish?: Promise<unknown>): Promise<void>;
  close(): void;
  /** For logs and the CLI: where mail goes. */
  readonly description: string;
}

/** A failure the receiving server will not change its mind about (5xx): the address bounced. */
export function isPermanentFailure(error: unknown): boolean {
  const code = (error as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/**
 * Mail cannot go out at all: the server cannot be reached, or it turned us away before any
 * recipient came up (greeting, TLS, login, the sender address, a 421), or the mail folder cannot
 * be written. Nobody's address is at fault, so no invitee is marked bounced and no mail counts
 * an attempt; sending stops until the next run.
 */
export class MailUnavailableError extends Error {}

/** Whether an SMTP error is the answer to this mail's recipient or content (RCPT TO, DATA). */
function isAboutThisMail(error: unknown): boolean {
  const { command, responseCode } = error as { command?: string; responseCode?: number };
  return (command === 'RCPT TO' || command === 'DATA') && typeof responseCode === 'number' && responseCode !== 421;
}

/**
 * SMTP over one connection, kept open between mails (mail goes out one at a time: at most one
 * in flight). smtp://host:port (STARTTLS when offered), smtps://host:465 (TLS), user:password@
 * for authentication, ?requireTLS=true or ?ignoreTLS=true.
 */
export function smtpTransport(url: string): MailTransport {
  const u = new URL(url);
  const secure = u.protocol === 'smtps:';
  const options: SMTPConnection.Options = {
    host: u.hostname,
    port: Number(u.port || (secure ? 465 : 25)),
    secure,
    ignoreTLS: u.searchParams.get('ignoreTLS') === 'true',
    requireTLS: u.searchParams.get('requireTLS') === 'true',
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
  };
  const auth = u.username ? { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) } : undefined;
  let connection: Promise<SMTPConnection> | undefined;
  const drop = () => {
    const current = connection;
    connection = undefined;
    void current?.then((c) => c.close()).catch(() => {});
  };
  const connect = (): Promise<SMTPConnection> => {
    connection ??= new Promise<SMTPConnection>((resolve, reject) => {
      const c = new SMTPConnection(options);
      c.once('error', (e: Error) => {
        connection = undefined;
        reject(e);
      });
      // The server may close an idle connection; the next mail opens a new one.
      c.once('end', () => {
        connection = undefined;
      });
      c.connect(() => {
        if (!auth) return resolve(c);
        c.login(auth, (e) => {
          if (!e) return resolve(c);
          // Refused: the connection is of no use, and would stay open.
          c.close();
          reject(e);
        });
      });
    });
    return connection;
  };
  return {
    description: `SMTP ${u.host}`,
    async send({ message }, finish) {
      for (let fresh = false; ; fresh = true) {
        const reused = connection !== undefined;
        try {
          const c = await connect();
          const body = finish ? endingWhen(message.raw, finish) : message.raw;
          // A copy: nodemailer notes a refusal on the envelope it is given, and a second try on
          // the same object fails with the first one's error.
          await new Promise<void>((resolve, reject) => c.send({ ...message.envelope }, body, (e) => (e ? reject(e) : resolve())));
          return;
        } catch (e) {
          // After a refusal, a broken connection or an abandoned mail, start the next mail on a
          // fresh connection (closing this one mid-message is what abandons it).
          drop();
          // Abandoned because `finish` failed: that is the reason to report.
          if (finish) await finish;
          if (isAboutThisMail(e)) throw e;
          // A kept-open connection the server has since given up (idle too long, or its limit of
          // mails per connection, often a 421): once more, on a new one.
          if (reused && !fresh) continue;
          throw new MailUnavailableError(`SMTP server ${u.host}: ${(e as Error).message}`, { cause: e });
        }
      }
    },
    close: drop,
  };
}

/** The message as a stream that ends only once `finish` resolves, and fails if it rejects. */
function endingWhen(raw: Buffer, finish: Promise<unknown>): Readable {
  const stream = new PassThrough();
  stream.write(raw);
  finish.then(
    () => {
      if (!stream.destroyed) stream.end();
    },
    (e: unknown) => stream.destroy(e instanceof Error ? e : new Error(String(e))),
  );
  return stream;
}

export function fileTransport(dir: string): MailTransport {
  return {
    description: `.eml files in ${dir}`,
    async send({ rendered, message }, finish) {
      await finish;
      const name = rendered.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9@._-]/g, '_');
      try {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `${name}.eml`), message.raw);
      } catch (e) {
        throw new MailUnavailableError(`mail folder ${dir}: ${(e as Error).message}`, { cause: e });
      }
    },
    close: () => {},
  };
}
