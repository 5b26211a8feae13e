import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

// Two tiers, both run by `npm test`:
// - unit: never real time (ManualClock or fake timers), fast, deterministic;
// - smoke: real time, real processes, real runtimes (the demo, the examples, the runtime suites
//   on Deno, Bun and Chromium, the real-clock tests).
// The suites of time-dependent code also run twice more on Node with the event loop's
// primitives removed, as in a browser (no `setImmediate`) and as in a runtime with neither
// `setImmediate` nor `MessageChannel`; test/runtime/strip-globals.ts removes them and checks that
// the package really took the fallback.

/** Real-time tests: the smoke tier. */
const SMOKE = ['test/smoke/**/*.test.ts', 'test/demo.test.ts', 'test/examples.test.ts', 'test/circuit-breaker/turn-clock.test.ts'];

/** The suites of time-dependent code that run again on stripped Node: unit tier, then smoke. */
const TIMED_UNIT = [
  'test/end-of-turn.test.ts',
  'test/internal/deadline-queue.test.ts',
  'test/timeout.test.ts',
  'test/hedge.test.ts',
  'test/circuit-breaker/windows.test.ts',
  'test/metrics/**/*.test.ts',
];
const TIMED_SMOKE = ['test/smoke/real-time.test.ts', 'test/circuit-breaker/turn-clock.test.ts'];

const base = {
  // Any unhandled rejection or uncaught error fails the run (vitest's default), and the
  // setup file turns a warning-level leak into a failure as well.
  dangerouslyIgnoreUnhandledErrors: false,
  testTimeout: 20000,
  pool: 'forks' as const,
};

/** A project of `include` on Node without the globals named in `strip` (comma-separated). */
function stripped(name: string, include: string[], strip: string): TestProjectInlineConfiguration {
  return {
    test: {
      ...base,
      name,
      include,
      env: { BREAKWATER_STRIP: strip },
      setupFiles: ['test/runtime/strip-globals.ts', 'test/setup.ts'],
    },
  };
}

const NO_IMMEDIATE = 'setImmediate';
const NO_MACROTASK = 'setImmediate,MessageChannel';

// Project names start with their tier: `vitest run --project 'unit*'` runs the unit tier.
export default defineConfig({
  test: {
    projects: [
      { test: { ...base, name: 'unit', include: ['test/**/*.test.ts'], exclude: SMOKE, setupFiles: ['test/setup.ts'] } },
      {
        test: {
          ...base,
          name: 'unit:types',
          include: [],
          typecheck: { enabled: true, only: true, include: ['test/types/**/*.test-d.ts'], tsconfig: 'tsconfig.check.json' },
        },
      },
      stripped('unit:no-setImmediate', TIMED_UNIT, NO_IMMEDIATE),
      stripped('unit:no-setImmediate-no-MessageChannel', TIMED_UNIT, NO_MACROTASK),
      { test: { ...base, name: 'smoke', include: SMOKE, setupFiles: ['test/setup.ts'], testTimeout: 120000, hookTimeout: 120000 } },
      stripped('smoke:no-setImmediate', TIMED_SMOKE, NO_IMMEDIATE),
      stripped('smoke:no-setImmediate-no-MessageChannel', TIMED_SMOKE, NO_MACROTASK),
    ],
  },
});
