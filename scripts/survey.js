#!/usr/bin/env node
// The `survey` command. The CLI is TypeScript; tsx compiles it on the fly, so `npx survey …`
// works right after `npm ci` without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv);
