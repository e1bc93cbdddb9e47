// An SMTP server that accepts and discards mail, in its own process for the benchmark: prints
// its port, and answers "count" on stdin with the number of mails accepted.
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { SMTPServer } from 'smtp-server';

let accepted = 0;
const server = new SMTPServer({
  authOptional: true,
  disableReverseLookup: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      accepted++;
      callback();
    });
  },
});
// A client that drops its connection (the sender being stopped) is not the sink's problem.
server.on('error', () => {});
server.listen(0, '127.0.0.1', () => console.log(`port ${(server.server.address() as AddressInfo).port}`));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'count') console.log(`count ${accepted}`);
  if (line === 'quit') server.close(() => process.exit(0));
});
