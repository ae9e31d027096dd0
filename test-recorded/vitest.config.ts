import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';
import { missingMessage, missingShared } from './shared.ts';

// `npm run test:recorded`: the parsers, decoders and fake servers against the recorded third-party payloads in
// ../shared (outside the repository; test-recorded/shared.ts). `npm test` (../vitest.config.ts) never reads them.
// Without ../shared the run stops here with a message saying what is missing: never a silent pass or a skip.
const missing = missingShared();
if (missing.length > 0) {
  process.stderr.write(`${missingMessage(missing)}\n`);
  process.exit(1);
}

export default defineConfig({
  root: resolve(import.meta.dirname, '..'),
  test: {
    include: ['test-recorded/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
