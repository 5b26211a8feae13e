// Every test file runs with this: an unhandled rejection anywhere fails the run. vitest already
// reports them as errors and exits non-zero; this makes the failure name the test file too.
import { afterEach } from 'vitest';

const seen: unknown[] = [];
const onRejection = (reason: unknown): void => {
  seen.push(reason);
};
process.on('unhandledRejection', onRejection);

afterEach(async () => {
  // Let rejections that became unhandled in the test's last turn be reported first.
  // (`setTimeout` where a project of vitest.config.ts removed `setImmediate`.)
  await new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
  if (seen.length > 0) {
    const reasons = seen.splice(0);
    throw new Error(`unhandled rejection(s) during the test: ${reasons.map(String).join('; ')}`);
  }
});
