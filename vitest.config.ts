import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'server/test/**/*.test.ts', 'ui/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one embedded PostgreSQL (each file gets its own database) and a
    // 2-core machine; two files at a time keeps renderers from starving the server under test.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
