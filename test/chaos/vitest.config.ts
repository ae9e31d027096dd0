import { defineConfig } from 'vitest/config';

/**
 * `npm run test:chaos`: the fault-injection run of the whole system as processes (test/chaos/*.test.ts) alone.
 * `npm test` runs it too (the root vitest.config.ts takes every .test.ts under test/); the test sets its timeouts.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    pool: 'forks',
    reporters: ['default'],
  },
});
