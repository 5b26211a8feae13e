// Adaptive limit: the limit finds a service's capacity by itself, and follows it when it changes.
// The service below runs up to N requests at 50 ms; past N, requests queue inside it and take
// several times as long. Callers send more than it can serve. Time is simulated with ManualClock,
// so two simulated minutes take well under a second.
// Run: npx tsx --tsconfig tsconfig.check.json examples/adaptive-limit.ts
import { adaptiveLimit, type AdaptiveAlgorithm } from 'breakwater';
import { ManualClock } from 'breakwater/testing';

async function run(algorithm: AdaptiveAlgorithm): Promise<void> {
  const clock = new ManualClock();
  const limit = adaptiveLimit({ algorithm, initialLimit: 5, minLimit: 2, clock, metrics: false });
  let capacity = 30; // N: what the service can run at once without queueing
  let running = 0;
  const finishing = new Map<number, Array<() => void>>();

  // AIMD is loss-based: it learns from drops. For it, the service sheds a request that would
  // take over 200 ms (a 503 at 200 ms), which the limit counts as a drop; Gradient2 and Vegas
  // learn from the latency alone.
  const shed = algorithm === 'aimd';

  /** The simulated service: 50 ms up to N in flight, then 50 ms x (2 + excess). */
  const service = (): Promise<void> => {
    running++;
    const latency = running <= capacity ? 50 : 50 * (2 + running - capacity);
    const fails = shed && latency > 200;
    const at = clock.now() + (fails ? 200 : latency);
    return new Promise((resolve, reject) => {
      const list = finishing.get(at) ?? [];
      finishing.set(at, list);
      list.push(() => {
        running--;
        if (fails) reject(new Error('503 overloaded'));
        else resolve();
      });
    });
  };

  // Every 10 ms, 10 callers arrive (1000/s; the service manages ~600/s at N = 30).
  let stopped = false;
  const tick = (): void => {
    if (!stopped) for (let i = 0; i < 10; i++) limit.execute(service).catch(() => undefined);
    for (const done of finishing.get(clock.now()) ?? []) done();
    finishing.delete(clock.now());
    if (!stopped || finishing.size > 0) clock.setTimeout(tick, 10);
  };
  clock.setTimeout(tick, 0);

  console.log(`\n${algorithm}: limit over time (N = the service's real capacity)`);
  for (const [n, seconds] of [[30, 40], [15, 40], [30, 40]] as const) {
    capacity = n;
    for (let s = 0; s < seconds; s += 5) {
      await clock.advance(5000);
      const t = String(clock.now() / 1000).padStart(4);
      console.log(`  ${t} s  N=${String(n).padStart(2)}  limit=${String(limit.limit).padStart(3)}  ${'#'.repeat(limit.limit)}`);
    }
  }
  stopped = true;
  await clock.runAll(100_000);
}

for (const algorithm of ['aimd', 'gradient2', 'vegas'] as const) await run(algorithm);
