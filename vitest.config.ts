import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 30_000,
    // Set-ups do test work too (anonymity.test.ts walks twelve respondents through a questionnaire
    // on a synced database file): on a slow machine that took over the default 10 s.
    hookTimeout: 60_000,
  },
});
