// Circuit breaker: a flaky dependency goes down, the breaker opens and fails fast, probes it
// again after the open duration (which grows while the dependency stays down), and closes once
// it answers again. Every state change is printed, with the time since the start.
// Real time, short durations: it finishes in about two seconds.
// Run: npx tsx --tsconfig tsconfig.check.json examples/circuit-breaker.ts
import { backoff, circuitBreaker, isBreakwaterError, pipeline, timeout } from 'breakwater';

// breakwater's timers never keep a process alive (a server would); this script has nothing else
// to wait on while a call hangs, so it holds the event loop open itself.
const keepAlive = setInterval(() => {}, 1000);
const started = Date.now();
const t = (): string => `${String(Date.now() - started).padStart(5)} ms`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// The dependency: healthy, then down (errors, or hangs) for a while, then healthy again.
let mode: 'up' | 'errors' | 'hangs' = 'up';
async function flakyService(signal: AbortSignal): Promise<string> {
  await sleep(5);
  if (mode === 'errors') throw new Error('503 Service Unavailable');
  if (mode === 'hangs') {
    // Hangs until the timeout aborts it: the breaker counts the TimeoutError as a failure.
    await new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
  }
  return 'ok';
}

const breaker = circuitBreaker({
  name: 'flaky-service',
  window: { type: 'count', size: 10 },
  minimumCalls: 5,
  failureRateThreshold: 0.5,
  // 200 ms open, then 400, 800, … while trials keep failing; back to 200 once it closes.
  openDurationMs: backoff.exponential({ initialMs: 200, maxMs: 2000, jitter: 'none' }),
  halfOpenCalls: 2,
});
breaker.events.on('stateChange', ({ from, to }) => console.log(`${t()}  ${from} -> ${to}`));

// The usual place for a breaker: outside the per-call timeout, so timeouts count as failures.
const guarded = pipeline(breaker, timeout(50));

const tally = { ok: 0, failed: 0, rejected: 0 };
async function callOnce(): Promise<void> {
  try {
    await guarded.execute(({ signal }) => flakyService(signal));
    tally.ok++;
  } catch (error) {
    if (isBreakwaterError(error, 'ECIRCUITOPEN')) tally.rejected++;
    else tally.failed++;
  }
}

async function phase(name: string, next: typeof mode, ms: number): Promise<void> {
  mode = next;
  console.log(`${t()}  -- ${name}`);
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await Promise.all([callOnce(), callOnce()]); // two callers at a time
    await sleep(10);
  }
}

await phase('service up', 'up', 200);
await phase('service returns errors', 'errors', 500);
await phase('service hangs', 'hangs', 500);
await phase('service recovers', 'up', 700);

const m = breaker.metrics();
console.log(`${t()}  done: state ${breaker.state}; callers saw ${tally.ok} ok, ${tally.failed} failed, ${tally.rejected} refused at once`);
console.log(`         breaker metrics: ${m.successes} successes, ${m.failures} failures, ${m.rejections} rejections`);
console.log(`         saved state: ${JSON.stringify(breaker.toJSON())}`);
breaker.dispose();
clearInterval(keepAlive);
