// The worker thread of secretsMadeOnWorker (invitation-secrets.ts). Plain JavaScript, because a
// worker starts without the parent's TypeScript loader: it registers tsx itself, as
// scripts/survey.js does, and then runs the TypeScript side.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runSecretsWorker } = await import('./invitation-secrets.ts');
runSecretsWorker(workerData, (batch) => parentPort.postMessage(batch), (handle) => parentPort.on('message', handle));
