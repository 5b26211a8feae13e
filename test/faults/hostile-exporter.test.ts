// Telemetry never changes, delays or loses a call's outcome: with a real OpenTelemetry SDK meter
// whose instruments throw, and a prom-client registry that fails, every call settles with its
// function's outcome, the failure is reported once, and nothing is left unhandled.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Meter } from '@opentelemetry/api';
import { Registry as PromRegistry } from 'prom-client';
import { instrumentOpenTelemetry } from '../../src/opentelemetry/index.js';
import { collectPrometheus } from '../../src/prometheus/index.js';
import { bulkhead, circuitBreaker, createRegistry, pipeline, retry, timeout, backoff } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { gate } from '../helpers.js';

const broken = new Error('meter backend down');

/** The SDK's meter, with every synchronous instrument's add/record throwing. */
function hostileMeter(): { meter: Meter; shutdown: () => Promise<void> } {
  const provider = new MeterProvider();
  const real = provider.getMeter('hostile');
  const sabotage = <T extends object>(instrument: T): T =>
    new Proxy(instrument, {
      get(target, key, receiver) {
        if (key === 'add' || key === 'record') {
          return () => {
            throw broken;
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
  const meter = new Proxy(real, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver) as unknown;
      if (key === 'createCounter' || key === 'createHistogram' || key === 'createUpDownCounter') {
        return (...args: unknown[]) => sabotage((v as (...a: unknown[]) => object).apply(target, args));
      }
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { meter, shutdown: () => provider.shutdown() };
}

afterEach(() => vi.restoreAllMocks());

describe('a throwing metrics backend', () => {
  it('OpenTelemetry: timeout, queued bulkhead, breaker, retry and pipeline calls all settle with fn’s outcome', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const clock = new ManualClock();
    const registry = createRegistry();
    const { meter, shutdown } = hostileMeter();
    const handle = instrumentOpenTelemetry(registry, { meter });
    const t = timeout({ durationMs: 10, clock, registry });
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 1, clock, registry });
    const cb = circuitBreaker({ window: { type: 'consecutive', failures: 5 }, clock, registry });
    const r = retry({ maxAttempts: 2, backoff: backoff.constant(5), clock, registry });
    const p = pipeline(retry({ maxAttempts: 2, backoff: backoff.constant(5), clock }), circuitBreaker({ clock }), timeout({ durationMs: 50, clock }), { registry });

    // A timeout that fires, and one that does not.
    const late = t.execute(() => new Promise(() => {}));
    const lateR = expect(late).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await expect(t.execute(() => 'in time')).resolves.toBe('in time');
    // A bulkhead call that runs and one that waits in the queue.
    const first = gate<string>();
    const running = b.execute(() => first.promise);
    const queued = b.execute(() => 'queued ran');
    // Breaker and retry successes and failures.
    await expect(cb.execute(() => 'ok')).resolves.toBe('ok');
    await expect(cb.execute(() => Promise.reject(new Error('dependency')))).rejects.toThrow('dependency');
    let n = 0;
    const retried = r.execute(() => (++n === 1 ? Promise.reject(new Error('once')) : 'second'));
    let m = 0;
    const piped = p.execute(() => (++m === 1 ? Promise.reject(new Error('once')) : 'piped'));
    await clock.advance(10);
    await lateR;
    first.resolve('first ran');
    await expect(running).resolves.toBe('first ran');
    await expect(queued).resolves.toBe('queued ran');
    await expect(retried).resolves.toBe('second');
    await expect(piped).resolves.toBe('piped');
    // Reported, once per exporter and policy, never per call.
    expect(warn.mock.calls.length).toBeGreaterThan(0);
    expect(warn.mock.calls.every((c) => String(c[0]).includes('reported once'))).toBe(true);
    const before = warn.mock.calls.length;
    await expect(cb.execute(() => 'again')).resolves.toBe('again');
    await expect(t.execute(() => 'again')).resolves.toBe('again');
    expect(warn.mock.calls.length).toBe(before);
    handle.stop();
    await shutdown();
  });

  it('OpenTelemetry: with a listenerError listener the failure goes there', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const clock = new ManualClock();
    const registry = createRegistry();
    const { meter, shutdown } = hostileMeter();
    instrumentOpenTelemetry(registry, { meter });
    const cb = circuitBreaker({ clock, registry });
    const seen: unknown[] = [];
    cb.events.on('listenerError', ({ event, error }) => seen.push([event, error]));
    await expect(cb.execute(() => 1)).resolves.toBe(1);
    await expect(cb.execute(() => 2)).resolves.toBe(2);
    expect(seen).toEqual([['exporter', broken]]);
    // The bus listener's failure (events) has no listenerError listener on the registry: warned once.
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
    await shutdown();
  });

  it('Prometheus: a registry that fails at scrape leaves calls alone and rejects only the scrape', async () => {
    class Failing extends PromRegistry {
      override metrics(): Promise<string> {
        return Promise.reject(broken);
      }
    }
    const register = new Failing();
    const registry = createRegistry();
    collectPrometheus(registry, { register });
    const clock = new ManualClock();
    const t = timeout({ durationMs: 10, clock, registry });
    const b = bulkhead({ maxConcurrent: 1, maxQueue: 1, clock, registry });
    await expect(t.execute(() => 'ok')).resolves.toBe('ok');
    await expect(b.execute(() => Promise.reject(new Error('fn')))).rejects.toThrow('fn');
    await expect(register.metrics()).rejects.toBe(broken);
    await expect(t.execute(() => 'still ok')).resolves.toBe('still ok');
  });
});
