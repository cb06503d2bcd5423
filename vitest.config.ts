import { defineConfig } from 'vitest/config';

// Four suites: unit and integration make up `npm test` and need nothing but npm packages;
// contract reads ../shared/reference (beside a checkout, not on a user's machine); e2e needs
// Debian packages (Prometheus, promtool) that test/e2e/setup.sh installs.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { test: { name: 'integration', include: ['test/integration/**/*.test.ts'], testTimeout: 30_000 } },
      { test: { name: 'contract', include: ['test/contract/**/*.test.ts'], testTimeout: 30_000 } },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
