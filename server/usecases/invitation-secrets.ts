// The secrets of one invitation: a typed code and a link token from the CSPRNG, their keyed hashes
// (to find the invitee without storing either) and their sealed copies (for the mails). Making
// them (two HMACs and two AES-GCM encryptions) is a third of the work of importing a large sample
// frame, so a large import has them made ahead on a worker thread, on the other core, while this
// thread checks the rows and inserts them.

import { Worker } from 'node:worker_threads';
import { generateCode, generateToken } from '../domain/codes.ts';
import { createSecrets, type Secrets } from '../security/secrets.ts';

export interface InvitationSecrets {
  code: string;
  token: string;
  code_lookup: string;
  token_lookup: string;
  code_sealed: string;
  token_sealed: string;
}

export const codeLookup = (secrets: Secrets, code: string): string => secrets.hmac('code-lookup', `code:${code}`);
export const tokenLookup = (secrets: Secrets, token: string): string => secrets.hmac('code-lookup', `token:${token}`);

export function makeInvitationSecrets(secrets: Secrets): InvitationSecrets {
  const code = generateCode();
  const token = generateToken();
  return {
    code,
    token,
    code_lookup: codeLookup(secrets, code),
    token_lookup: tokenLookup(secrets, token),
    code_sealed: secrets.encrypt('code-storage', code),
    token_sealed: secrets.encrypt('code-storage', token),
  };
}

/** Hands out invitation secrets, made on the spot or ahead of time. */
export interface InvitationSecretsSource {
  take(n: number): Promise<InvitationSecrets[]>;
  close(): Promise<void>;
}

export function secretsMadeHere(secrets: Secrets): InvitationSecretsSource {
  return {
    take: async (n) => Array.from({ length: n }, () => makeInvitationSecrets(secrets)),
    close: async () => {},
  };
}

/** How many the worker makes at a time, and how far it may run ahead of what was asked for. */
const BATCH = 2000;
const AHEAD = 10_000;

/** Messages between this thread and the worker (invitation-secrets-worker.mjs). */
type ToWorker = { asked: number };
interface WorkerData {
  masterSecret: string;
  total: number;
  batch: number;
  ahead: number;
}

/** Secrets for up to `total` invitations, made ahead on a worker thread with the same keys. */
export function secretsMadeOnWorker(secrets: Secrets, total: number): InvitationSecretsSource {
  const workerData: WorkerData = { masterSecret: secrets.masterSecret, total, batch: BATCH, ahead: AHEAD };
  const worker = new Worker(new URL('./invitation-secrets-worker.mjs', import.meta.url), { workerData });
  const ready: InvitationSecrets[] = [];
  let asked = 0;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (batch: InvitationSecrets[]) => {
    for (const s of batch) ready.push(s);
    notify();
  });
  worker.on('error', (e) => {
    failure = e;
    notify();
  });
  worker.on('exit', () => {
    failure ??= new Error('the worker making invitation codes stopped');
    notify();
  });
  return {
    async take(n) {
      if (failure) throw failure;
      if (asked + n > total) throw new Error(`asked for ${asked + n} invitation codes, ${total} were planned`);
      asked += n;
      worker.postMessage({ asked: n } satisfies ToWorker);
      while (ready.length < n) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return ready.splice(0, n);
    },
    async close() {
      failure = new Error('the worker making invitation codes was closed');
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

/** The worker's side: makes `total` secrets in batches, at most `ahead` beyond what was asked for. */
export function runSecretsWorker(data: WorkerData, post: (batch: InvitationSecrets[]) => void, onMessage: (handle: (m: ToWorker) => void) => void): void {
  const secrets = createSecrets(data.masterSecret);
  let made = 0;
  let asked = 0;
  let scheduled = false;
  const pump = () => {
    scheduled = false;
    if (made >= data.total || made - asked >= data.ahead) return;
    const n = Math.min(data.batch, data.total - made);
    post(Array.from({ length: n }, () => makeInvitationSecrets(secrets)));
    made += n;
    // One batch at a time, so that "asked" messages are handled in between.
    schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  };
  onMessage((m) => {
    asked += m.asked;
    schedule();
  });
  schedule();
}
