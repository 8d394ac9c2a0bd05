import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: cross-process suites spawn their own children, so keep file parallelism modest.
    maxWorkers: 2,
    pool: 'forks',
  },
});
