import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

// `npm run test:recorded`: the parsers, decoders and fake servers against the recorded third-party payloads in
// ../shared (outside the repository; test-recorded/shared.ts). `npm test` (../vitest.config.ts) never reads them.
export default defineConfig({
  root: resolve(import.meta.dirname, '..'),
  test: {
    include: ['test-recorded/**/*.test.ts'],
    globalSetup: ['test-recorded/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
