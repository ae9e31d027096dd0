import { defineConfig } from 'vitest/config';

/**
 * `npm run test:chaos`: the fault-injection run of the whole system as processes (test/chaos/*.test.ts) alone; it is
 * part of `npm test` too.
 */
export default defineConfig({
  test: {
    include: ['test/chaos/**/*.test.ts'],
    testTimeout: 420_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
