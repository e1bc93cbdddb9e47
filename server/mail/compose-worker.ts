// Composing a large batch of mails on a worker thread, on the other core: while this thread
// exchanges one mail with the SMTP server and records the one before, the worker composes the
// batch after. The worker has the same keys (from the server secret) and reads the same
// templates; what it composes is exactly what composeHere would (both run composeMail).

import { Worker } from 'node:worker_threads';
import { createSecrets, type Secrets } from '../security/secrets.ts';
import { composeMail, type Composition, type MailCompositor, type MailRun, type MailToCompose } from './compose.ts';
import { MailTemplates } from './render.ts';

interface WorkerData {
  masterSecret: string;
  templatesDir: string;
}
type Request = { id: number; run: MailRun; items: MailToCompose[]; now: Date };
type Reply = { ready: true } | { id: number; compositions: Composition[] } | { id: number; error: string };

export function composeOnWorker(secrets: Secrets, templates: MailTemplates): MailCompositor {
  const workerData: WorkerData = { masterSecret: secrets.masterSecret, templatesDir: templates.dir };
  const worker = new Worker(new URL('./compose-worker.mjs', import.meta.url), { workerData });
  const waiting = new Map<number, { resolve: (c: Composition[]) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let ready = false;
  let failure: Error | undefined;
  const fail = (e: Error) => {
    failure ??= e;
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  worker.on('message', (reply: Reply) => {
    if ('ready' in reply) {
      ready = true;
      return;
    }
    const w = waiting.get(reply.id);
    waiting.delete(reply.id);
    if ('error' in reply) return w?.reject(new Error(`composing mail: ${reply.error}`));
    // A message arrives as a Uint8Array (a copy); the transports want a Buffer over it.
    for (const c of reply.compositions) if ('mail' in c) c.mail.message.raw = Buffer.from(c.mail.message.raw.buffer, c.mail.message.raw.byteOffset, c.mail.message.raw.byteLength);
    w?.resolve(reply.compositions);
    if (waiting.size === 0) worker.unref();
  });
  worker.on('error', fail);
  worker.on('exit', () => fail(new Error('the worker composing mail stopped')));
  // Idle (between sending runs), the worker does not keep the process alive.
  worker.unref();
  return {
    get ready() {
      return ready && !failure;
    },
    compose(run, items, now) {
      if (failure) return Promise.reject(failure);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.ref();
        worker.postMessage({ id, run, items, now } satisfies Request);
      });
    },
    async close() {
      fail(new Error('the worker composing mail was closed'));
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}

/** The worker's side: composes each batch asked for, in order. */
export function runComposeWorker(data: WorkerData, post: (reply: Reply) => void, onMessage: (handle: (request: Request) => void) => void): void {
  const secrets = createSecrets(data.masterSecret);
  const templates = new MailTemplates(data.templatesDir);
  onMessage(({ id, run, items, now }) => {
    try {
      post({ id, compositions: items.map((item) => composeMail(secrets, templates, run, item, now)) });
    } catch (e) {
      post({ id, error: (e as Error).message });
    }
  });
  post({ ready: true });
}
