// A real SMTP server on loopback for tests: it parses every mail it accepts, and can reject
// recipients permanently (550) or temporarily (451) to test bounces and retries.
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Received {
  /** MAIL FROM: the return path. */
  envelopeFrom: string;
  envelopeTo: string[];
  mail: ParsedMail;
  raw: string;
}

export interface TestSmtp {
  url: string;
  received: Received[];
  /** Mails whose content has begun to arrive, whether or not they were then received in full. */
  dataStarted: number;
  /** Addresses rejected with 550 (permanent). */
  rejectPermanently: Set<string>;
  /** Addresses rejected with 451 this many more times (temporary). */
  rejectTemporarily: Map<string, number>;
  /** Turn every client away at the greeting (554), as a server that blocklisted us does. */
  refuseConnections: boolean;
  /** Turn away this many more connections at the greeting with a 421, as a busy or restarting relay does. */
  busyFor: number;
  /** Reject the sender address (553), as a server does for a domain we may not send for. */
  rejectSender: boolean;
  /**
   * Refuse every recipient with this reply (code and text), as a relay does that wants a login
   * ("554 5.7.1 Client host rejected"), or will not relay ("550 5.7.1 Relaying denied").
   */
  refuseRecipients: { code: number; text: string } | undefined;
  /** Answer 421 to the mail after this many on one connection, as servers with such a limit do. */
  mailsPerConnection: number;
  /** Called after a mail is received and before the server answers 250 (to crash a sender mid-send). */
  beforeAccept: (received: Received[]) => Promise<void> | void;
  close(): Promise<void>;
}

/** `login`: the server requires AUTH with this user and password (over plain text, on loopback). */
export async function startSmtp(options: { login?: { user: string; pass: string } } = {}): Promise<TestSmtp> {
  const received: Received[] = [];
  const rejectPermanently = new Set<string>();
  const rejectTemporarily = new Map<string, number>();
  const mailsOn = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: !options.login,
    allowInsecureAuth: true,
    // No reverse DNS lookup of the client: there is no network here, and it costs 100 ms a connection.
    disableReverseLookup: true,
    disabledCommands: options.login ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === options.login?.user && auth.password === options.login?.pass) return callback(null, { user: auth.username });
      callback(Object.assign(new Error('5.7.8 authentication failed'), { responseCode: 535 }));
    },
    onConnect(_session, callback) {
      if (smtp.refuseConnections) return callback(Object.assign(new Error('5.7.1 your address is on a blocklist'), { responseCode: 554 }));
      if (smtp.busyFor > 0) {
        smtp.busyFor--;
        return callback(Object.assign(new Error('4.3.2 service busy, try again later'), { responseCode: 421 }));
      }
      callback();
    },
    onMailFrom(_address, session, callback) {
      if (smtp.rejectSender) return callback(Object.assign(new Error('5.7.1 sender not allowed'), { responseCode: 553 }));
      const mails = (mailsOn.get(session.id) ?? 0) + 1;
      mailsOn.set(session.id, mails);
      if (mails > smtp.mailsPerConnection) return callback(Object.assign(new Error('4.7.0 too many mails on this connection'), { responseCode: 421 }));
      callback();
    },
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      if (smtp.refuseRecipients) return callback(Object.assign(new Error(smtp.refuseRecipients.text.replace('<to>', `<${to}>`)), { responseCode: smtp.refuseRecipients.code }));
      // With the address in the reply, as Postfix and Exchange put it.
      if (rejectPermanently.has(to)) return callback(Object.assign(new Error(`5.1.1 <${to}>: Recipient address rejected: user unknown`), { responseCode: 550 }));
      const left = rejectTemporarily.get(to) ?? 0;
      if (left > 0) {
        rejectTemporarily.set(to, left - 1);
        return callback(Object.assign(new Error('4.2.1 try again later'), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => {
        if (chunks.length === 0) smtp.dataStarted++;
        chunks.push(c);
      });
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then(async (mail) => {
            received.push({ envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', envelopeTo: session.envelope.rcptTo.map((r) => r.address), mail, raw });
            await smtp.beforeAccept(received);
            callback();
          })
          .catch(callback);
      });
    },
  });
  // A client that goes away mid-conversation (killed, or abandoning a mail by hanging up while
  // its next envelope is on the way) resets the connection: that is the client's business.
  server.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') throw e;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  const smtp: TestSmtp = {
    url: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
    received,
    dataStarted: 0,
    rejectPermanently,
    rejectTemporarily,
    refuseConnections: false,
    busyFor: 0,
    rejectSender: false,
    refuseRecipients: undefined,
    mailsPerConnection: Infinity,
    beforeAccept: () => {},
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return smtp;
}
