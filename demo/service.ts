// The demo's dependency: a local HTTP service that is healthy, then slow, then failing, then
// healthy again, on a fixed timeline. Randomness is seeded, so every run tells the same story.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One phase of the service's life. */
export interface Phase {
  readonly name: string;
  /** Length of the phase, in ms of the full-length demo. */
  readonly ms: number;
  /** Response time range, in ms. */
  readonly latency: readonly [number, number];
  /** Fraction of requests answered with a 503. */
  readonly errorRate: number;
}

export const PHASES: readonly Phase[] = [
  { name: 'healthy', ms: 4000, latency: [5, 20], errorRate: 0.01 },
  { name: 'slow', ms: 4000, latency: [60, 400], errorRate: 0.05 },
  { name: 'failing', ms: 4000, latency: [2, 10], errorRate: 0.9 },
  { name: 'recovered', ms: 8000, latency: [5, 20], errorRate: 0 },
];

/** A small seeded PRNG (mulberry32): the same "random" service on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FlakyService {
  readonly url: string;
  /** The phase the service is in now. */
  phase(): Phase;
  /** Requests received so far. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * Starts the service on 127.0.0.1 (a free port). `scale` shrinks the timeline (0.25: four
 * times faster) without changing latencies, so timeouts still bite as they would.
 */
export async function startService(scale: number, started = performance.now()): Promise<FlakyService> {
  const random = seeded(42);
  const ends: number[] = [];
  let total = 0;
  for (const p of PHASES) ends.push((total += p.ms * scale));
  const phase = (): Phase => {
    const t = performance.now() - started;
    const i = ends.findIndex((end) => t < end);
    return PHASES[i === -1 ? PHASES.length - 1 : i] as Phase;
  };
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    const p = phase();
    const [lo, hi] = p.latency;
    const delay = lo + random() * (hi - lo);
    const fail = random() < p.errorRate;
    const timer = setTimeout(() => {
      res.statusCode = fail ? 503 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(fail ? { error: 'unavailable' } : { price: 42 }));
    }, delay);
    // The client gave up (its timeout aborted the request): stop working on it.
    req.on('close', () => {
      if (!res.writableEnded) clearTimeout(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/price`,
    phase,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
