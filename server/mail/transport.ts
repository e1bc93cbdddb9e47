// Where mail goes: an SMTP server (SMTP_URL, through the SMTP session of smtp-client.ts), or, on
// the embedded default, .eml files in a folder, so the demo shows exactly what would have been
// sent. Both send the message composed in mime.ts.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComposedMessage } from './mime.ts';
import type { RenderedMail } from './render.ts';
import { SmtpSession, type SmtpOptions } from './smtp-client.ts';
import { ConfigError } from '../config.ts';

/** A mail ready to go: the message, and what it says of itself (for the outbox, logs and tests). */
export interface OutgoingMail {
  rendered: Pick<RenderedMail, 'messageId' | 'to' | 'subject'>;
  message: ComposedMessage;
  /** The survey it belongs to: the .eml transport keeps each survey's mails in a folder of its own. */
  surveyId?: string;
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
 * Whether a refusal of a recipient is about us rather than them: the relay wants a login, will
 * not relay for us, or turns away our host or sender address. Enhanced status codes (RFC 3463)
 * 5.7.x (security or policy) and 5.1.7/5.1.8 (the sender's address), reply 530 (authentication
 * required), or the words relays use for it. Such a reply would be the same for every recipient:
 * marking each of them bounced (502 of 512 in one run) would be wrong. Only a refusal of the
 * recipient (5.1.x bad mailbox, 5.2.x mailbox full or disabled, or a plain 550 "user unknown")
 * bounces.
 */
export function isRefusalOfSender(error: unknown): boolean {
  const { responseCode, message } = error as { responseCode?: number; message?: string };
  const text = message ?? '';
  if (responseCode === 530) return true;
  const enhanced = /\b([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text);
  if (enhanced && enhanced[2] === '7') return true;
  if (enhanced && enhanced[2] === '1' && (enhanced[3] === '7' || enhanced[3] === '8')) return true;
  return /relay(ing)?( access)? (denied|not (permitted|allowed))|client host( \[[^\]]*\])? rejected|authentication (is )?required|sender address rejected|not authori[sz]ed to (send|relay)/i.test(text);
}

/** SMTP_URL as a URL, or a sentence saying what is wrong with it (never the password). */
function smtpUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new ConfigError('SMTP_URL is not a valid URL, e.g. smtp://user:password@relay.example.nl:587; a user name or password with @, :, / or % in it must be URL-encoded (@ as %40)');
  }
  if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') throw new ConfigError(`SMTP_URL must begin with smtp:// or smtps://, not ${u.protocol}//`);
  return u;
}

function decoded(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConfigError(`SMTP_URL: the ${what} is not URL-encoded correctly (a % must start %XX, e.g. %25 for % itself)`);
  }
}

/**
 * SMTP over one connection, kept open between mails (smtp-client.ts: a mail given while the one
 * before is under way has its envelope sent right behind that one's end, and its own end waits
 * for its `finish`, so at most one mail is ever taken and not yet recorded).
 * smtp://host:port (STARTTLS when offered), smtps://host:465 (TLS), user:password@ for
 * authentication (only over TLS, unless ?allowPlaintextLogin=true), ?requireTLS=true or
 * ?ignoreTLS=true. A relay's certificate from a CA of the bureau's own: `more.ca` (SMTP_CA_FILE).
 */
/**
 * Pauses before connecting again after a 421 ("service not available, closing"), which a relay
 * says when it is busy or restarting, also before it took any mail: a few tries, then the run stops
 * (MailUnavailableError) and the sender tries again on its next run.
 */
const RECONNECT_AFTER_421_MS = [1000, 5000, 15_000];

export function smtpTransport(url: string, more: { ca?: string | Buffer; reconnectAfter421Ms?: readonly number[] } = {}): MailTransport {
  const reconnectDelays = more.reconnectAfter421Ms ?? RECONNECT_AFTER_421_MS;
  const u = smtpUrl(url);
  const secure = u.protocol === 'smtps:';
  const options: SmtpOptions = {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: Number(u.port || (secure ? 465 : 25)),
    secure,
    ignoreTLS: u.searchParams.get('ignoreTLS') === 'true',
    requireTLS: u.searchParams.get('requireTLS') === 'true',
    allowPlaintextLogin: u.searchParams.get('allowPlaintextLogin') === 'true',
    ...(u.username ? { auth: { user: decoded(u.username, 'user name'), pass: decoded(u.password, 'password') } } : {}),
    ...(more.ca ? { tls: { ca: more.ca } } : {}),
  };
  // Mails in the order they were given: the end of each may wait for the outcome of the one
  // before, so they are handed to a connection in that order, also again after it failed.
  interface Job {
    seq: number;
    mail: OutgoingMail;
    finish: Promise<unknown>;
    /** Set once `finish` has failed: the reason to report, whatever else went wrong. */
    abandoned?: { reason: unknown };
    retried: boolean;
    /** Connections tried again after a 421 for this mail. */
    reconnects: number;
    resolve: () => void;
    reject: (e: unknown) => void;
  }
  let seq = 0;
  /** Set while waiting out the pause after a 421: no connection is opened meanwhile. */
  let pausing = false;
  const is421 = (error: unknown) => (error as { responseCode?: number }).responseCode === 421;
  /** Puts a job back in line, in order. */
  const requeue = (job: Job) => {
    const before = waiting.findIndex((j) => j.seq > job.seq);
    waiting.splice(before < 0 ? waiting.length : before, 0, job);
  };
  /** After a 421: back in line, and a new connection after a pause, while tries are left. */
  const reconnectLater = (jobs: Job[]): boolean => {
    if (jobs.length === 0) return true;
    const tries = Math.max(...jobs.map((j) => j.reconnects));
    if (tries >= reconnectDelays.length) return false;
    for (const job of jobs) {
      job.reconnects++;
      requeue(job);
    }
    if (!pausing) {
      pausing = true;
      setTimeout(() => {
        pausing = false;
        pump();
      }, reconnectDelays[tries]);
    }
    return true;
  };
  const waiting: Job[] = [];
  let session: SmtpSession | undefined;
  let opening = false;

  const fail = (job: Job, error: unknown) => {
    // Reported once `finish` has settled: if it failed, that is the reason (the mail was abandoned).
    void job.finish.then(
      () => job.reject(error),
      (reason: unknown) => job.reject(reason),
    );
  };
  const settle = (job: Job, on: SmtpSession, error: unknown) => {
    if (error === undefined) return job.resolve();
    if (job.abandoned) return job.reject(job.abandoned.reason);
    if (isAboutThisMail(error)) {
      if (!isRefusalOfSender(error)) return fail(job, error);
      // The relay refuses us, not this recipient: nobody is marked bounced, and sending stops
      // until the setting is mended.
      return fail(job, new MailUnavailableError(`the SMTP server ${u.host} refuses to take mail from us (${(error as Error).message.trim()}): check SMTP_URL (the login, or whether this relay accepts mail from this host and sender address)`, { cause: error }));
    }
    if (session === on && !on.usable) session = undefined;
    // Not this mail's fault: the connection failed (the server ended it, often with a 421 after
    // its limit of mails per connection, or another mail was abandoned on it). Once more, on a
    // new connection, in line, if this one had carried mail before (a fresh one that fails at
    // once will fail again); for a mail abandoned beside it, without counting.
    const beside = (error as { command?: string }).command === 'ABANDONED';
    if (beside || (!job.retried && on.taken > 0)) {
      if (!beside) job.retried = true;
      requeue(job);
      return pump();
    }
    // A 421 on a connection that took nothing yet (a busy or restarting relay): after a pause.
    if (is421(error) && reconnectLater([job])) return;
    fail(job, new MailUnavailableError(`SMTP server ${u.host}: ${(error as Error).message}`, { cause: error }));
  };
  const pump = () => {
    if (waiting.length === 0 || opening || pausing) return;
    if (!session?.usable) {
      // Closed since the last mail (the server ends an idle connection), or not yet open.
      opening = true;
      SmtpSession.open(options).then(
        (opened) => {
          opening = false;
          session = opened;
          pump();
        },
        (e: unknown) => {
          opening = false;
          const jobs = waiting.splice(0);
          // Turned away with a 421 at the greeting: a busy relay, tried again after a pause.
          if (is421(e) && reconnectLater(jobs)) return;
          for (const job of jobs) fail(job, new MailUnavailableError(`SMTP server ${u.host}: ${(e as Error).message}`, { cause: e }));
        },
      );
      return;
    }
    const on = session;
    for (const job of waiting.splice(0)) {
      if (job.abandoned) {
        job.reject(job.abandoned.reason);
        continue;
      }
      on.send(job.mail.message.envelope, job.mail.message.raw, job.finish).then(
        () => settle(job, on, undefined),
        (e: unknown) => settle(job, on, e ?? new Error('send failed')),
      );
    }
  };
  return {
    description: `SMTP ${u.host}`,
    send(mail, finish = Promise.resolve()) {
      return new Promise<void>((resolve, reject) => {
        const job: Job = { seq: seq++, mail, finish, retried: false, reconnects: 0, resolve, reject };
        finish.catch((reason: unknown) => (job.abandoned = { reason }));
        waiting.push(job);
        pump();
      });
    },
    close: () => {
      session?.close();
      session = undefined;
    },
  };
}

/**
 * Mails as .eml files, for development and the demo: a folder per survey, readable by the owner
 * only (every file holds a respondent's link and code), removed with the survey's contact data at
 * purge (removeSurveyMailFiles).
 */
export function fileTransport(dir: string): MailTransport {
  return {
    description: `.eml files in ${dir}`,
    async send({ rendered, message, surveyId }, finish) {
      await finish;
      const name = rendered.messageId.replace(/[<>]/g, '').replace(/[^A-Za-z0-9@._-]/g, '_');
      const folder = surveyId === undefined ? dir : surveyMailFolder(dir, surveyId);
      try {
        mkdirSync(folder, { recursive: true, mode: 0o700 });
        writeFileSync(join(folder, `${name}.eml`), message.raw, { mode: 0o600 });
      } catch (e) {
        throw new MailUnavailableError(`mail folder ${folder}: ${(e as Error).message}`, { cause: e });
      }
    },
    close: () => {},
  };
}

function surveyMailFolder(dir: string, surveyId: string): string {
  return join(dir, surveyId.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/** Removes the .eml files of a survey (survey purge); returns whether there were any. */
export function removeSurveyMailFiles(dir: string, surveyId: string): boolean {
  const folder = surveyMailFolder(dir, surveyId);
  if (!existsSync(folder)) return false;
  rmSync(folder, { recursive: true, force: true });
  return true;
}
