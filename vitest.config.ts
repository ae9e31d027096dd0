import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Redis/PostgreSQL suites share real servers; each uses its own key/schema prefix, so files may run in parallel.
    pool: 'forks',
    reporters: ['default'],
    // `npm run coverage`: line/branch coverage of src/ (v8), text summary + coverage/ (git-ignored)
    coverage: {
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text-summary', 'html'],
      reportOnFailure: true,
    },
  },
});
