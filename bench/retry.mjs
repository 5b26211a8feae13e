// Retry and hedge: the success paths, side by side with cockatiel (issue #3).
//
// The retry is measured with default options (metrics on: two clock reads per call) and with
// `metrics: false`; the hedge against a bare timeout policy, both arming and clearing one timer.
import * as cockatiel from 'cockatiel';
import { retry, hedge, timeout } from '../dist/esm/index.js';
import { sequential } from './harness.mjs';

const work = async () => 1;

const bwRetry = retry();
const bwRetryNoMetrics = retry({ metrics: false });
// cockatiel's maxAttempts counts retries only: 2 is our default of 3 attempts.
const ckRetry = cockatiel.retry(cockatiel.handleAll, { maxAttempts: 2, backoff: new cockatiel.ExponentialBackoff() });

const bwHedge = hedge({ delayMs: 1000 });
const bwHedgeNoMetrics = hedge({ delayMs: 1000, metrics: false });
const bwTimeout = timeout(1000);
const bwTimeoutNoMetrics = timeout({ durationMs: 1000, metrics: false });

export const groups = [
  {
    title: 'retry: success path',
    cases: [
      { name: 'breakwater retry', run: sequential(() => bwRetry.execute(work)) },
      { name: 'breakwater retry (metrics off)', run: sequential(() => bwRetryNoMetrics.execute(work)) },
      { name: 'cockatiel retry', run: sequential(() => ckRetry.execute(work)) },
      { name: 'bare await', run: sequential(work) },
    ],
    checks: [
      { faster: 'breakwater retry', slower: 'cockatiel retry', atLeast: 1.5, label: 'retry vs cockatiel, default options (issue #3)' },
      { faster: 'breakwater retry (metrics off)', slower: 'cockatiel retry', atLeast: 1.5, label: 'retry vs cockatiel, metrics off (issue #3)' },
    ],
  },
  {
    title: 'hedge: first attempt answers before the delay',
    batch: 5000,
    cases: [
      { name: 'breakwater hedge', run: sequential(() => bwHedge.execute(work)) },
      { name: 'breakwater timeout', run: sequential(() => bwTimeout.execute(work)) },
      { name: 'breakwater hedge (metrics off)', run: sequential(() => bwHedgeNoMetrics.execute(work)) },
      { name: 'breakwater timeout (metrics off)', run: sequential(() => bwTimeoutNoMetrics.execute(work)) },
    ],
    checks: [
      { faster: 'breakwater hedge', slower: 'breakwater timeout', atMost: 1.5, label: 'hedge within 1.5x of a bare timeout (issue #3)' },
      { faster: 'breakwater hedge (metrics off)', slower: 'breakwater timeout (metrics off)', atMost: 1.5, label: 'hedge within 1.5x of a bare timeout, metrics off' },
    ],
  },
];
