// Model-based property test: random sequences of calls (fast, slow, failing, overlapping,
// aborted, locally rejected, timed out), clock advances, isolate / release and reset run against
// the breaker and the reference model in model.ts. After every step the states agree, `fn` runs
// exactly when the model admits the call, refusals carry the model's state and retryAfterMs, and
// half-open never has more than `halfOpenCalls` trials running.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { backoff } from '../../src/backoff.js';
import { BrokenCircuitError, BulkheadRejectedError, IsolatedCircuitError, TimeoutError } from '../../src/errors.js';
import { circuitBreaker, type CircuitBreakerOptions } from '../../src/circuit-breaker/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { Model, type ModelCall, type ModelConfig, type Verdict, type WindowConfig } from './model.js';
import { deferred, type Deferred } from './helpers.js';

class Declined extends Error {}
/** How often the runs reached the interesting paths: a guard against a generator gone blind. */
const stats = { neitherTrials: 0, trialsEnded: 0, halfOpens: 0 };

type Ending = 'ok' | 'fail' | 'declined' | 'badResult' | 'local' | 'timeout' | 'abort';
type Command =
  | { kind: 'start'; signal: boolean }
  | { kind: 'end'; pick: number; how: Ending }
  | { kind: 'advance'; ms: number }
  | { kind: 'isolate' }
  | { kind: 'release'; pick: number }
  | { kind: 'reset' };

const windowArb: fc.Arbitrary<WindowConfig> = fc.oneof(
  fc.record({ type: fc.constant('consecutive' as const), failures: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ type: fc.constant('count' as const), size: fc.integer({ min: 1, max: 5 }) }),
  fc.record({
    type: fc.constant('time' as const),
    durationMs: fc.constantFrom(100, 200),
    buckets: fc.integer({ min: 1, max: 4 }),
  }),
);

const configArb: fc.Arbitrary<ModelConfig & { metrics: boolean; listen: boolean }> = fc.record({
  window: windowArb,
  minimumCalls: fc.integer({ min: 1, max: 4 }),
  failureRateThreshold: fc.constantFrom(0.25, 0.5, 1),
  slowCallDurationMs: fc.option(fc.integer({ min: 10, max: 40 }), { nil: undefined }),
  slowCallRateThreshold: fc.constantFrom(0.5, 1),
  openDurationMs: fc.oneof(fc.integer({ min: 0, max: 80 }), fc.array(fc.integer({ min: 0, max: 80 }), { minLength: 1, maxLength: 3 })),
  halfOpenCalls: fc.integer({ min: 1, max: 3 }),
  halfOpenMaxDurationMs: fc.option(fc.integer({ min: 20, max: 100 }), { nil: undefined }),
  metrics: fc.boolean(),
  listen: fc.boolean(),
});

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('start' as const), signal: fc.boolean() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('end' as const),
      pick: fc.nat(),
      how: fc.constantFrom<Ending>('ok', 'ok', 'ok', 'fail', 'fail', 'fail', 'declined', 'badResult', 'local', 'timeout', 'abort', 'abort'),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 120 }) }) },
  // Rare, so that sequences get far enough to open, half-open and close on their own.
  { weight: 1, arbitrary: fc.constantFrom<Command>({ kind: 'isolate' }, { kind: 'reset' }, { kind: 'release', pick: 0 }, { kind: 'release', pick: 1 }) },
);

interface Running {
  model: ModelCall;
  work: Deferred<unknown>;
  controller: AbortController | undefined;
  /** The half-open period the call was admitted in, or -1. */
  period: number;
  outcome: { value?: unknown; error?: unknown } | undefined;
}

async function runScenario(config: ModelConfig & { metrics: boolean; listen: boolean }, commands: Command[]): Promise<void> {
  const clock = new ManualClock();
  const options: CircuitBreakerOptions = {
    clock,
    metrics: config.metrics,
    window: config.window,
    minimumCalls: config.minimumCalls,
    failureRateThreshold: config.failureRateThreshold,
    slowCallRateThreshold: config.slowCallRateThreshold,
    openDurationMs: typeof config.openDurationMs === 'number' ? config.openDurationMs : backoff.delays(config.openDurationMs),
    halfOpenCalls: config.halfOpenCalls,
    handle: (e) => !(e instanceof Declined),
    handleResult: (v) => v === 'bad',
    ...(config.slowCallDurationMs === undefined ? {} : { slowCallDurationMs: config.slowCallDurationMs }),
    ...(config.halfOpenMaxDurationMs === undefined ? {} : { halfOpenMaxDurationMs: config.halfOpenMaxDurationMs }),
  };
  const breaker = circuitBreaker(options);
  const model = new Model(config);
  if (config.listen) {
    breaker.events.on('success', () => {});
    breaker.events.on('failure', () => {});
  }
  // Half-open periods, as the breaker announces them, to check concurrency independently.
  let period = 0;
  breaker.events.on('stateChange', ({ to }) => {
    if (to === 'halfOpen') {
      period++;
      stats.halfOpens++;
    }
  });
  const running: Running[] = [];
  const handles: Array<{ real: { release(): void }; model: { epoch: number; released: boolean } }> = [];
  const log: string[] = [];

  try {
    for (const cmd of commands) {
      log.push(JSON.stringify(cmd));
      switch (cmd.kind) {
        case 'start': {
          const expected = model.start();
          const work = deferred<unknown>();
          let called = false;
          const controller = cmd.signal ? new AbortController() : undefined;
          const entry: Running = { model: expected.admitted ? expected.call : { gen: -1, start: 0 }, work, controller, period: -1, outcome: undefined };
          const p = breaker.execute(
            () => {
              called = true;
              return work.promise;
            },
            controller === undefined ? undefined : { signal: controller.signal },
          );
          p.then(
            (value) => (entry.outcome = { value }),
            (error: unknown) => (entry.outcome = { error }),
          );
          expect(called).toBe(expected.admitted);
          if (expected.admitted) {
            // A trial: admission may itself have moved an expired open breaker to half-open.
            entry.period = breaker.state === 'halfOpen' ? period : -1;
            running.push(entry);
          } else {
            await clock.flush();
            const error = entry.outcome?.error;
            expect(error).toBeInstanceOf(expected.state === 'isolated' ? IsolatedCircuitError : BrokenCircuitError);
            expect(error).toMatchObject({ state: expected.state, retryAfterMs: expected.retryAfterMs });
          }
          break;
        }
        case 'end': {
          if (running.length === 0) break;
          const [entry] = running.splice(cmd.pick % running.length, 1) as [Running];
          let verdict: Verdict;
          let how = cmd.how;
          if (how === 'abort' && entry.controller === undefined) how = 'fail';
          switch (how) {
            case 'ok':
              verdict = 'ok';
              entry.work.resolve('fine');
              break;
            case 'badResult':
              verdict = 'fail';
              entry.work.resolve('bad');
              break;
            case 'fail':
              verdict = 'fail';
              entry.work.reject(new Error('down'));
              break;
            case 'declined':
              verdict = 'ok';
              entry.work.reject(new Declined('not counted'));
              break;
            case 'local':
              verdict = 'neither';
              entry.work.reject(new BulkheadRejectedError(1, 0));
              break;
            case 'timeout':
              verdict = 'fail';
              entry.work.reject(new TimeoutError(5));
              break;
            default:
              verdict = 'neither';
              entry.controller?.abort('caller gone');
              entry.work.reject(new Error('aborted'));
          }
          if (verdict === 'neither' && entry.period === period && breaker.state === 'halfOpen') stats.neitherTrials++;
          if (entry.period === period && breaker.state === 'halfOpen') stats.trialsEnded++;
          await clock.flush();
          model.end(entry.model, verdict);
          if (how === 'abort') expect(entry.outcome).toEqual({ error: 'caller gone' });
          else if (how === 'ok') expect(entry.outcome).toEqual({ value: 'fine' });
          else if (how === 'badResult') expect(entry.outcome).toEqual({ value: 'bad' });
          else expect(entry.outcome?.error).toBeInstanceOf(Error);
          break;
        }
        case 'advance':
          await clock.advance(cmd.ms);
          model.advance(cmd.ms);
          break;
        case 'isolate':
          handles.push({ real: breaker.isolate(), model: model.isolate() });
          break;
        case 'release': {
          if (handles.length === 0) break;
          const h = handles[cmd.pick % handles.length] as (typeof handles)[number];
          h.real.release();
          model.release(h.model);
          break;
        }
        case 'reset':
          breaker.reset();
          model.reset();
          break;
      }
      expect(clock.now()).toBe(model.now);
      expect(breaker.state).toBe(model.state);
      expect(breaker.metrics().state).toBe(model.state);
      // Half-open never runs more than halfOpenCalls trials at once.
      if (breaker.state === 'halfOpen') {
        const trials = running.filter((r) => r.period === period).length;
        expect(trials).toBeLessThanOrEqual(config.halfOpenCalls);
        expect(model.runningTrials).toBeLessThanOrEqual(config.halfOpenCalls);
      }
    }
  } catch (error) {
    (error as Error).message += `\nconfig: ${JSON.stringify(config)}\nsteps:\n  ${log.join('\n  ')}`;
    throw error;
  } finally {
    // Settle whatever is still running, so nothing leaks into the next run.
    for (const r of running) r.work.resolve('done');
    await clock.flush();
    breaker.dispose();
    expect(clock.pendingTimers).toBe(0);
  }
}

describe('circuitBreaker against the reference model', () => {
  it('agrees on every step of random command sequences', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(commandArb, { minLength: 1, maxLength: 80, size: 'max' }), (config, commands) =>
        runScenario(config, commands),
      ),
      { numRuns: 400 },
    );
    expect(stats.halfOpens).toBeGreaterThan(50);
    expect(stats.trialsEnded).toBeGreaterThan(30);
    expect(stats.neitherTrials).toBeGreaterThan(3);
  });
});
