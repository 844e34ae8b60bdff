import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Docker-backed suites share one engine; running files in parallel on 2 cores makes CPU tests noisy.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
