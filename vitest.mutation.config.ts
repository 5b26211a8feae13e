import { defineConfig } from 'vitest/config';

// What `npm run mutation` (Stryker) runs for each mutant: the unit tier only. The smoke tier
// (real time, servers, Redis, browsers) is too slow to run hundreds of times and too timing-
// sensitive under Stryker's instrumentation.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/smoke/**', 'test/fetch/**', 'test/dashboard/**', 'test/redis/**', 'test/demo.test.ts', 'test/examples.test.ts', 'test/circuit-breaker/turn-clock.test.ts'],
    setupFiles: ['test/setup.ts'],
    dangerouslyIgnoreUnhandledErrors: false,
    testTimeout: 20000,
    pool: 'forks',
  },
});
