// The worker thread of composeOnWorker (compose-worker.ts). Plain JavaScript, because a worker
// starts without the parent's TypeScript loader: it registers tsx itself, as scripts/survey.js
// does, and then runs the TypeScript side.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runComposeWorker } = await import('./compose-worker.ts');
runComposeWorker(workerData, (m) => parentPort.postMessage(m), (handle) => parentPort.on('message', handle));
