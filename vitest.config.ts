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

/** The suites of time-dependent code that run again on stripped Node. */
const TIMED = [
  'test/end-of-turn.test.ts',
  'test/deadlines.test.ts',
  'test/timeout.test.ts',
  'test/hedge.test.ts',
  'test/circuit-breaker/windows.test.ts',
  'test/circuit-breaker/turn-clock.test.ts',
  'test/metrics/**/*.test.ts',
  'test/smoke/real-time.test.ts',
];

const base = {
  // Any unhandled rejection or uncaught error fails the run (vitest's default), and the
  // setup file turns a warning-level leak into a failure as well.
  dangerouslyIgnoreUnhandledErrors: false,
  testTimeout: 20000,
  pool: 'forks' as const,
};

function stripped(name: string, strip: string): TestProjectInlineConfiguration {
  return {
    test: {
      ...base,
      name,
      include: TIMED,
      env: { BREAKWATER_STRIP: strip },
      setupFiles: ['test/runtime/strip-globals.ts', 'test/setup.ts'],
    },
  };
}

export default defineConfig({
  test: {
    projects: [
      { test: { ...base, name: 'unit', include: ['test/**/*.test.ts'], exclude: SMOKE, setupFiles: ['test/setup.ts'] } },
      {
        test: {
          ...base,
          name: 'types',
          include: [],
          typecheck: { enabled: true, only: true, include: ['test/types/**/*.test-d.ts'], tsconfig: 'tsconfig.check.json' },
        },
      },
      { test: { ...base, name: 'smoke', include: SMOKE, setupFiles: ['test/setup.ts'], testTimeout: 120000, hookTimeout: 120000 } },
      stripped('node without setImmediate', 'setImmediate'),
      stripped('node without setImmediate and MessageChannel', 'setImmediate,MessageChannel'),
    ],
  },
});
