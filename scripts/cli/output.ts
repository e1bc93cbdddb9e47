// Where commands write, and where they read a secret from. Tests pass a collector; the real CLI
// passes the process streams.
import { createInterface } from 'node:readline';

export interface Output {
  out(line: string): void;
  err(line: string): void;
  /** Reads a secret (a password): from the terminal without echo, or the first line of stdin. */
  readSecret?(prompt: string): Promise<string>;
}

export const processOutput: Output = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
  readSecret: readSecretFromProcess,
};

async function readSecretFromProcess(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    // Piped: the first line of stdin (e.g. from a password manager), never an argument or env var
    // that would show in the process list.
    const rl = createInterface({ input });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return '';
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  input.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let secret = '';
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          process.stderr.write('\n');
          resolve(secret);
          return;
        }
        if (ch === '\u0003') {
          input.setRawMode(false);
          input.off('data', onData);
          reject(new Error('cancelled'));
          return;
        }
        if (ch === '\u007f') secret = secret.slice(0, -1);
        else secret += ch;
      }
    };
    input.on('data', onData);
  });
}
