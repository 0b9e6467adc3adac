import { defineConfig } from 'vitest/config';

// Separate from vite.config.ts: e2e tests run in Node and drive a real Chromium
// against an already running server; they must not load the PWA build plugins.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.test.ts'],
    // One browser at a time: 2-core machines, and the tests share server state
    // (login rate limits).
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
