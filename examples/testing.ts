// Deterministic tests of your own pipeline: ManualClock moves time by hand, no real sleeps.
// Run: npx tsx --tsconfig tsconfig.check.json examples/testing.ts
import assert from 'node:assert/strict';
import { pipeline, fallback, timeout, TimeoutError } from 'breakwater';
import { ManualClock } from 'breakwater/testing';

const clock = new ManualClock();
const guarded = pipeline(fallback('cached'), timeout({ durationMs: 1000, clock }));

// A call that would hang for ever answers from the fallback exactly at the deadline.
const call = guarded.execute(() => new Promise<string>(() => {}));
await clock.advance(999);
let settled = false;
void call.then(() => (settled = true));
await clock.flush();
assert.equal(settled, false, 'not yet at 999 ms');
await clock.advance(1);
assert.equal(await call, 'cached');

// Without the fallback, the TimeoutError itself. Attach the handler before advancing.
const bare = timeout({ durationMs: 10, clock });
const outcome = bare.execute(() => new Promise(() => {})).catch((e: unknown) => e);
await clock.advance(10);
assert.ok((await outcome) instanceof TimeoutError);
assert.equal(clock.pendingTimers, 0, 'no timer outlives its call');
console.log('all assertions passed at virtual time', clock.now(), 'ms');
