#!/usr/bin/env node
// The `survey` command. The CLI is TypeScript; tsx compiles it on the fly, so `npx survey …`
// works right after `npm ci` without a build step.
import { register } from 'tsx/esm/api';

register();
// `survey status | head`: once the reader has gone, further output is dropped, and the command
// still finishes its work rather than stopping in the middle (of a send, say) with a stack trace.
process.stdout.on('error', (e) => {
  if (e.code !== 'EPIPE') throw e;
});
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv);
