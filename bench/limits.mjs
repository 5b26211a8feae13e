// Limits: bulkhead (sequential and with 1000 calls in flight) against cockatiel, the rate
// limiters' O(1) per call, and the adaptive limit's and chaos's success paths.
import * as cockatiel from 'cockatiel';
import { bulkhead, rateLimiter, adaptiveLimit, chaos } from '../dist/esm/index.js';
import { sequential, concurrent } from './harness.mjs';

const work = async () => 1;

// Success path: a permit is always free.
const bwBulkhead = bulkhead({ maxConcurrent: 10 });
const bwBulkheadOff = bulkhead({ maxConcurrent: 10, metrics: false });
const ckBulkhead = cockatiel.bulkhead(10);

// 1000 calls in flight, all admitted at once.
const bwWide = bulkhead({ maxConcurrent: 1000 });
const bwWideOff = bulkhead({ maxConcurrent: 1000, metrics: false });
const ckWide = cockatiel.bulkhead(1000);

// 1000 calls in flight, 10 running and 990 waiting in the queue.
const bwQueued = bulkhead({ maxConcurrent: 10, maxQueue: 1000 });
const bwQueuedOff = bulkhead({ maxConcurrent: 10, maxQueue: 1000, metrics: false });
const ckQueued = cockatiel.bulkhead(10, 1000);

// The rate limiters with a clock that moves 1 ms per read, so every call finds a permit and the
// sliding window's ring is written all the way round: the cost per call at limit 10 and 100,000.
const stepClock = () => {
  let t = 0;
  // Timers are never needed: every call finds a permit.
  return { now: () => (t += 1), setTimeout: () => undefined, clearTimeout: () => undefined };
};
const bucket = (capacity) =>
  rateLimiter({ algorithm: 'tokenBucket', capacity, refillPerSecond: 1e9, clock: stepClock(), metrics: false });
const slide = (limit) => rateLimiter({ algorithm: 'slidingWindow', limit, windowMs: 1, clock: stepClock(), metrics: false });
const tb10 = bucket(10);
const tb100k = bucket(100_000);
const sw10 = slide(10);
const sw100k = slide(100_000);
// Write each ring all the way round first, so the figures are the steady state (not the ring
// growing to its size, which is amortised O(1) but allocates).
for (const limiter of [sw10, sw100k, tb10, tb100k]) {
  const calls = [];
  for (let i = 0; i < 200_000; i++) calls.push(limiter.execute(work));
  await Promise.all(calls);
}
const rlDefault = rateLimiter({ algorithm: 'tokenBucket', capacity: 1e9, refillPerSecond: 1e9 });

const adaptive = adaptiveLimit({ maxLimit: 1000, initialLimit: 1000, minLimit: 1000 });
const adaptiveOff = adaptiveLimit({ maxLimit: 1000, initialLimit: 1000, minLimit: 1000, metrics: false });
const chaosOff = chaos({ enabled: false });
const chaosNoFault = chaos({ faultRate: 0, latencyRate: 0 });

export const groups = [
  {
    title: 'bulkhead: success path (sequential)',
    rounds: 31,
    cases: [
      { name: 'breakwater bulkhead', run: sequential(() => bwBulkhead.execute(work)) },
      { name: 'breakwater bulkhead (metrics off)', run: sequential(() => bwBulkheadOff.execute(work)) },
      { name: 'cockatiel bulkhead', run: sequential(() => ckBulkhead.execute(work)) },
      { name: 'bare await', run: sequential(work) },
    ],
    checks: [
      { faster: 'breakwater bulkhead (metrics off)', slower: 'cockatiel bulkhead', atLeast: 1, label: 'bulkhead (metrics off) no slower than cockatiel (issue #5)' },
      { faster: 'breakwater bulkhead', slower: 'cockatiel bulkhead', atLeast: 1, label: 'bulkhead (default options) no slower than cockatiel' },
    ],
  },
  {
    title: 'bulkhead: 1000 in flight, all admitted (maxConcurrent 1000)',
    batch: 20000,
    rounds: 31,
    cases: [
      { name: 'breakwater sequential', run: sequential(() => bwWide.execute(work)) },
      { name: 'breakwater 1000 in flight', run: concurrent(() => bwWide.execute(work), 1000) },
      { name: 'breakwater sequential (metrics off)', run: sequential(() => bwWideOff.execute(work)) },
      { name: 'breakwater 1000 in flight (metrics off)', run: concurrent(() => bwWideOff.execute(work), 1000) },
      { name: 'cockatiel sequential', run: sequential(() => ckWide.execute(work)) },
      { name: 'cockatiel 1000 in flight', run: concurrent(() => ckWide.execute(work), 1000) },
      { name: 'bare await 1000 in flight', run: concurrent(work, 1000) },
    ],
    checks: [
      { faster: 'breakwater 1000 in flight', slower: 'breakwater sequential', atMost: 1.5, label: 'bulkhead 1000 in flight (admitted) within 1.5x of sequential (issue #5)' },
      { faster: 'breakwater 1000 in flight (metrics off)', slower: 'breakwater sequential (metrics off)', atMost: 1.5, label: 'bulkhead 1000 in flight (admitted), metrics off' },
    ],
  },
  {
    title: 'bulkhead: 1000 in flight, 990 queued (maxConcurrent 10, maxQueue 1000)',
    batch: 20000,
    rounds: 31,
    cases: [
      { name: 'breakwater sequential', run: sequential(() => bwQueued.execute(work)) },
      { name: 'breakwater 1000 in flight', run: concurrent(() => bwQueued.execute(work), 1000) },
      { name: 'breakwater sequential (metrics off)', run: sequential(() => bwQueuedOff.execute(work)) },
      { name: 'breakwater 1000 in flight (metrics off)', run: concurrent(() => bwQueuedOff.execute(work), 1000) },
      { name: 'cockatiel sequential', run: sequential(() => ckQueued.execute(work)) },
      { name: 'cockatiel 1000 in flight', run: concurrent(() => ckQueued.execute(work), 1000) },
      { name: 'breakwater 20 in flight (10 queued)', run: concurrent(() => bwQueued.execute(work), 20) },
      { name: 'cockatiel 20 in flight (10 queued)', run: concurrent(() => ckQueued.execute(work), 20) },
      { name: 'bare await sequential', run: sequential(work) },
      { name: 'bare await 1000 in flight', run: concurrent(work, 1000) },
      { name: 'bare await 20 in flight', run: concurrent(work, 20) },
    ],
    checks: [
      {
        overhead: ['breakwater 1000 in flight', 'bare await 1000 in flight'],
        versus: ['breakwater sequential', 'bare await sequential'],
        atMost: 1.5,
        label: 'bulkhead per-call overhead, 1000 in flight (990 queued) vs sequential (issue #5)',
      },
      {
        overhead: ['breakwater 1000 in flight (metrics off)', 'bare await 1000 in flight'],
        versus: ['breakwater sequential (metrics off)', 'bare await sequential'],
        atMost: 1.5,
        label: 'bulkhead per-call overhead (990 queued), metrics off',
      },
      {
        overhead: ['breakwater 1000 in flight', 'bare await 1000 in flight'],
        versus: ['breakwater 20 in flight (10 queued)', 'bare await 20 in flight'],
        atMost: Infinity,
        label: 'informational: breakwater overhead with 990 vs 10 queued',
      },
      {
        overhead: ['cockatiel 1000 in flight', 'bare await 1000 in flight'],
        versus: ['cockatiel 20 in flight (10 queued)', 'bare await 20 in flight'],
        atMost: Infinity,
        label: 'informational: cockatiel overhead with 990 vs 10 queued',
      },
      {
        overhead: ['cockatiel 1000 in flight', 'bare await 1000 in flight'],
        versus: ['cockatiel sequential', 'bare await sequential'],
        atMost: Infinity,
        label: 'informational: cockatiel overhead, 990 queued vs sequential',
      },
      { faster: 'breakwater 1000 in flight', slower: 'breakwater sequential', atMost: 1.5, label: 'bulkhead 1000 in flight (990 queued) within 1.5x of sequential (issue #5)' },
      { faster: 'breakwater 1000 in flight (metrics off)', slower: 'breakwater sequential (metrics off)', atMost: 1.5, label: 'bulkhead 1000 in flight (990 queued), metrics off' },
      { faster: 'breakwater 1000 in flight', slower: 'cockatiel 1000 in flight', atLeast: 1, label: 'bulkhead 1000 in flight (990 queued) no slower than cockatiel' },
    ],
  },
  {
    title: 'rateLimiter: O(1) per call (limit 10 vs 100,000; metrics off)',
    cases: [
      { name: 'tokenBucket capacity 10', run: sequential(() => tb10.execute(work)) },
      { name: 'tokenBucket capacity 100000', run: sequential(() => tb100k.execute(work)) },
      { name: 'slidingWindow limit 10', run: sequential(() => sw10.execute(work)) },
      { name: 'slidingWindow limit 100000', run: sequential(() => sw100k.execute(work)) },
      { name: 'tokenBucket, default options (systemClock, metrics)', run: sequential(() => rlDefault.execute(work)) },
      { name: 'bare await', run: sequential(work) },
    ],
    checks: [
      { faster: 'tokenBucket capacity 100000', slower: 'tokenBucket capacity 10', atMost: 1.25, label: 'tokenBucket: capacity 100,000 within 1.25x of capacity 10 (issue #5)' },
      { faster: 'slidingWindow limit 100000', slower: 'slidingWindow limit 10', atMost: 1.25, label: 'slidingWindow: limit 100,000 within 1.25x of limit 10 (issue #5)' },
    ],
  },
  {
    title: 'adaptiveLimit and chaos: success path',
    cases: [
      { name: 'breakwater adaptiveLimit', run: sequential(() => adaptive.execute(work)) },
      { name: 'breakwater adaptiveLimit (metrics off)', run: sequential(() => adaptiveOff.execute(work)) },
      { name: 'breakwater bulkhead', run: sequential(() => bwBulkhead.execute(work)) },
      { name: 'breakwater chaos (enabled: false)', run: sequential(() => chaosOff.execute(work)) },
      { name: 'breakwater chaos (rates 0)', run: sequential(() => chaosNoFault.execute(work)) },
      { name: 'cockatiel bulkhead', run: sequential(() => ckBulkhead.execute(work)) },
    ],
  },
];
