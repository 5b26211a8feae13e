// Foundation: timeout, fallback and a two-policy pipeline against cockatiel.
import * as cockatiel from 'cockatiel';
import { timeout, fallback, pipeline } from '../dist/esm/index.js';
import { sequential } from './harness.mjs';

const work = async () => 1;

const bwTimeout = timeout(1000);
const bwTimeoutNoMetrics = timeout({ durationMs: 1000, metrics: false });
const ckTimeout = cockatiel.timeout(1000, cockatiel.TimeoutStrategy.Aggressive);
const bwCoop = timeout({ durationMs: 1000, strategy: 'cooperative' });
const ckCoop = cockatiel.timeout(1000, cockatiel.TimeoutStrategy.Cooperative);

const bwFallback = fallback(0);
const ckFallback = cockatiel.fallback(cockatiel.handleAll, 0);

const bwPipe = pipeline(fallback(0), timeout(1000));
const ckWrap = cockatiel.wrap(cockatiel.fallback(cockatiel.handleAll, 0), cockatiel.timeout(1000, cockatiel.TimeoutStrategy.Aggressive));

export const groups = [
  {
    title: 'timeout: success path (aggressive)',
    batch: 5000,
    cases: [
      { name: 'breakwater timeout', run: sequential(() => bwTimeout.execute(work)) },
      { name: 'breakwater timeout (metrics off)', run: sequential(() => bwTimeoutNoMetrics.execute(work)) },
      { name: 'cockatiel timeout', run: sequential(() => ckTimeout.execute(work)) },
      { name: 'bare await', run: sequential(work) },
    ],
    checks: [{ faster: 'breakwater timeout', slower: 'cockatiel timeout', atLeast: 10, label: 'timeout vs cockatiel (issue #2)' }],
  },
  {
    title: 'timeout: success path (cooperative)',
    batch: 5000,
    cases: [
      { name: 'breakwater cooperative', run: sequential(() => bwCoop.execute(work)) },
      { name: 'cockatiel cooperative', run: sequential(() => ckCoop.execute(work)) },
    ],
    checks: [{ faster: 'breakwater cooperative', slower: 'cockatiel cooperative', atLeast: 10, label: 'cooperative timeout vs cockatiel' }],
  },
  {
    title: 'fallback: success path',
    cases: [
      { name: 'breakwater fallback', run: sequential(() => bwFallback.execute(work)) },
      { name: 'cockatiel fallback', run: sequential(() => ckFallback.execute(work)) },
    ],
    checks: [{ faster: 'breakwater fallback', slower: 'cockatiel fallback', atLeast: 1, label: 'fallback no slower than cockatiel (issue #2)' }],
  },
  {
    title: 'pipeline(fallback, timeout): success path',
    batch: 5000,
    cases: [
      { name: 'breakwater pipeline', run: sequential(() => bwPipe.execute(work)) },
      { name: 'cockatiel wrap', run: sequential(() => ckWrap.execute(work)) },
    ],
    checks: [{ faster: 'breakwater pipeline', slower: 'cockatiel wrap', atLeast: 1, label: 'two-policy pipeline no slower than cockatiel wrap (issue #2)' }],
  },
];
