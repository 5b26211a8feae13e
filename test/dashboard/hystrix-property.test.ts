// Whatever the traffic, the HystrixCommand counts are the ones a model of the traffic expects: the
// pipeline's fallback sees every error the caller would have got and classifies it, and the calls
// that returned a value are the successes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bulkhead, circuitBreaker, createRegistry, fallback, isBreakwaterError, pipeline, timeout } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { hystrixMessages } from '../../src/dashboard/hystrix.js';

type Outcome = 'ok' | 'fail' | 'slow' | 'burst' | 'isolate' | 'release';
const outcome = fc.constantFrom<Outcome>('ok', 'ok', 'fail', 'slow', 'burst', 'isolate', 'release');

describe('HystrixCommand invariants', () => {
  it('counts match the traffic; requestCount, errorCount and errorPercentage follow from them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(outcome, fc.integer({ min: 1, max: 60 })), { maxLength: 40 }), async (steps) => {
        const clock = new ManualClock();
        const registry = createRegistry();
        const cb = circuitBreaker({ name: 'cb', clock, window: { type: 'count', size: 10 }, minimumCalls: 5, openDurationMs: 100 });
        const model = { success: 0, failure: 0, timeout: 0, rejected: 0, short: 0 };
        const classify = ({ error }: { error?: unknown }): string => {
          if (isBreakwaterError(error, 'ECIRCUITOPEN') || isBreakwaterError(error, 'ECIRCUITISOLATED')) model.short++;
          else if (isBreakwaterError(error, 'ETIMEDOUT')) model.timeout++;
          else if (isBreakwaterError(error, 'EBULKHEADFULL')) model.rejected++;
          else model.failure++;
          return 'fb';
        };
        const api = pipeline(fallback(classify), cb, timeout({ name: 'to', durationMs: 50, clock }), bulkhead({ name: 'bh', maxConcurrent: 2 }), {
          name: 'api',
          registry,
          clock,
        });
        const later = (ms: number, fail: boolean) => () =>
          new Promise((resolve, reject) => clock.setTimeout(() => (fail ? reject(new Error('x')) : resolve(1)), ms));
        let handle: { release(): void } | undefined;
        for (const [what, ms] of steps) {
          const calls: Array<Promise<unknown>> = [];
          if (what === 'isolate') handle ??= cb.isolate();
          else if (what === 'release') {
            handle?.release();
            handle = undefined;
          } else if (what === 'burst') for (let i = 0; i < 4; i++) calls.push(api.execute(later(ms, false)));
          else calls.push(api.execute(later(what === 'slow' ? 80 : ms, what === 'fail')));
          await clock.advance(100);
          for (const v of await Promise.all(calls)) {
            expect([1, 'fb']).toContain(v); // the fallback answers every failure
            if (v === 1) model.success++;
          }
        }
        for (const m of hystrixMessages(registry) as Array<Record<string, unknown>>) {
          if (m['type'] !== 'HystrixCommand') continue;
          const n = (k: string): number => m[k] as number;
          expect({
            success: n('rollingCountSuccess'),
            failure: n('rollingCountFailure'),
            timeout: n('rollingCountTimeout'),
            rejected: n('rollingCountSemaphoreRejected'),
            short: n('rollingCountShortCircuited'),
          }).toEqual(model);
          expect(n('requestCount')).toBe(n('rollingCountSuccess') + n('rollingCountFailure') + n('rollingCountTimeout') + n('rollingCountSemaphoreRejected'));
          expect(n('errorCount')).toBe(n('requestCount') - n('rollingCountSuccess'));
          expect(n('errorPercentage')).toBe(n('requestCount') === 0 ? 0 : Math.floor((100 * n('errorCount')) / n('requestCount')));
          expect(m['isCircuitBreakerOpen']).toBe(cb.state === 'open' || cb.state === 'isolated');
          const l = m['latencyExecute'] as Record<string, number>;
          const keys = ['0', '25', '50', '75', '90', '95', '99', '99.5', '100'];
          for (let i = 1; i < keys.length; i++) expect(l[keys[i] as string]).toBeGreaterThanOrEqual(l[keys[i - 1] as string] as number);
        }
        handle?.release();
        await clock.advance(1000);
      }),
      { numRuns: 60 },
    );
  });
});
