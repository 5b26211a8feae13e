import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    // Any unhandled rejection or uncaught error fails the run (vitest's default), and the
    // setup file turns a warning-level leak into a failure as well.
    dangerouslyIgnoreUnhandledErrors: false,
    testTimeout: 20000,
    pool: 'forks',
  },
});
