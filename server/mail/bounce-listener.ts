// The SMTP endpoint that receives delivery reports (BOUNCE_SMTP_PORT): the bounce domain's MX, or
// the bureau's own mail server forwarding the bounce address, delivers to it. It takes mail only
// for the return paths of this platform (mail/return-path.ts) and the bounce address itself, so it
// is no open relay; anything else gets 550 at RCPT TO. Each report is handled before the reply to
// its data: a report that could not be recorded gets 451, and the sending server tries again.

import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';
import { MAX_REPORT_BYTES } from './delivery-report.ts';
import type { ReturnPaths } from './return-path.ts';

export interface BounceListener {
  readonly port: number;
  close(): Promise<void>;
}

export interface BounceListenerOptions {
  host: string;
  port: number;
  paths: ReturnPaths;
  /** Records one report; throws when it could not (the sender is told to try again later). */
  receive(recipients: string[], raw: Buffer): Promise<void>;
  /** The server's name in its greeting. */
  name?: string;
  onError?(error: Error): void;
}

export async function startBounceListener(options: BounceListenerOptions): Promise<BounceListener> {
  const server = new SMTPServer({
    name: options.name,
    banner: 'delivery reports only',
    // Reports come from mail servers, which need no login; without TLS of its own it offers none.
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    size: MAX_REPORT_BYTES,
    maxClients: 20,
    socketTimeout: 60_000,
    logger: false,
    // Who sends the report is not what decides; no reverse DNS lookup for every connection.
    disableReverseLookup: true,
    onRcptTo(address, _session, callback) {
      const to = address.address.toLowerCase();
      if (options.paths.outboxOf(to) !== undefined || to === options.paths.address) return callback();
      const error = Object.assign(new Error(`5.1.1 <${address.address}>: no such recipient here; this server takes delivery reports only`), { responseCode: 550 });
      callback(error);
    },
    onData(stream: SMTPServerDataStream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (stream.sizeExceeded) return callback(Object.assign(new Error('5.3.4 a delivery report is at most 1 MB'), { responseCode: 552 }));
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        options.receive(recipients, Buffer.concat(chunks)).then(
          () => callback(),
          (e: unknown) => {
            options.onError?.(e as Error);
            callback(Object.assign(new Error('4.3.0 the report could not be recorded; try again later'), { responseCode: 451 }));
          },
        );
      });
    },
  });
  server.on('error', (e) => options.onError?.(e));
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.server.off('error', onError);
      resolve();
    });
  });
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
