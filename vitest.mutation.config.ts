import { defineConfig } from 'vitest/config';

// What `npm run mutation` (Stryker) runs for each mutant: the unit tier, less what would make a
// run over `src/` impossible on a 2-core machine:
// - the smoke tier (real time, servers, Redis, browsers): too slow to run thousands of times and
//   too timing-sensitive under Stryker's instrumentation;
// - the two stress tests (a million calls; 10,000 policies created and disposed for a heap
//   check): 20 s and 2 s a run, and every mutant they cover would run them. What they check (every
//   call settles once, nothing leaks) is also checked per policy by smaller tests, and both still
//   run in `npm test`.
// `isolate: false` reuses one module graph for every test file of a run: the dry run takes a
// third of the time. Stryker's own switches select the mutant at run time, so nothing is stale;
// the tests do not depend on fresh module state (the dry run would fail if they did).
// BREAKWATER_MUTATION lets a test skip work that only measures heap or compiles TypeScript.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [
      'test/smoke/**',
      'test/demo.test.ts',
      'test/examples.test.ts',
      'test/circuit-breaker/turn-clock.test.ts',
      'test/faults/million.test.ts',
      'test/leak.test.ts',
    ],
    setupFiles: ['test/setup.ts'],
    env: { BREAKWATER_MUTATION: '1' },
    dangerouslyIgnoreUnhandledErrors: false,
    testTimeout: 20000,
    isolate: false,
  },
});
