/**
 * `breakwater/testing`: deterministic time for tests of code that uses breakwater.
 *
 * @example
 * ```ts
 * import { ManualClock } from 'breakwater/testing';
 * const clock = new ManualClock();
 * await clock.advance(1000);
 * ```
 *
 * @module
 */
export { ManualClock } from './manual-clock.js';
