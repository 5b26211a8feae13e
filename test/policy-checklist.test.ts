// docs/internals.md's checklist, followed for a policy that waits: `pause` holds each call for
// `ms` on the policy's clock before running it. Everything it needs is in this one file (for a
// real policy: its own src file plus one line of the barrel). Nothing outside it names the kind,
// its event or its gauge, yet the registry lists it, the bus forwards its event, and both
// exporters show its event, its calls and its gauge.
import { describe, it, expect, afterEach } from 'vitest';
import { Registry as PromRegistry } from 'prom-client';
import type { CommonOptions } from '../src/contract.js';
import { PolicyBase, disposedError } from '../src/policy-base.js';
import { describePolicy } from '../src/internal/descriptor.js';
import { type Ctx, type Fn, RUN, invoke } from '../src/internal/run.js';
import { Sleeps } from '../src/internal/sleep.js';
import { callerAborted } from '../src/internal/token.js';
import { FAILURES, SUCCESSES } from '../src/metrics/rolling-window.js';
import { num, optionsObject } from '../src/validate.js';
import { createRegistry, type BusEvent } from '../src/registry/index.js';
import { collectPrometheus } from '../src/prometheus/index.js';
import { ManualClock } from '../src/testing/index.js';

// ---- the policy: one file ----------------------------------------------------------------------

interface PauseOptions extends CommonOptions {
  /** How long each call waits before it runs, in ms. */
  readonly ms: number;
}
interface PauseEvents {
  paused: { readonly ms: number };
}

// 1. The descriptor: kind, events with severity, gauges.
const PAUSE = describePolicy({
  kind: 'pause',
  events: { paused: 'information' },
  gauges: { queued: (p: PausePolicy) => p.waiting },
});

class PausePolicy extends PolicyBase<PauseEvents> {
  readonly ms: number;
  waiting = 0;
  private readonly sleeps: Sleeps;

  constructor(options: PauseOptions) {
    // 2. Validate every option, then call super (which validates the common ones), then build.
    const o = optionsObject('pause', options);
    const ms = num('pause', 'ms', o['ms'], { min: 0 });
    super(PAUSE, o);
    this.ms = ms;
    this.sleeps = new Sleeps(this.clock);
  }

  // 3. The run hook: never throws synchronously; waits through the shared cancellable sleep.
  async [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.disposed) throw disposedError(this);
    const started = this.start();
    if (this.events.has('paused')) this.events.emit('paused', { ms: this.ms });
    this.waiting++;
    try {
      await this.sleeps.sleep(this.ms, ctx.tok);
    } catch (reason) {
      if (!callerAborted(ctx.tok)) this.record(FAILURES, started);
      throw reason;
    } finally {
      this.waiting--;
    }
    try {
      const value = await invoke(fn, ctx);
      this.record(SUCCESSES, started);
      return value;
    } catch (error) {
      if (!callerAborted(ctx.tok)) this.record(FAILURES, started);
      throw error;
    }
  }

  // 4. Dispose clears what it owns.
  protected override onDispose(): void {
    this.sleeps.stopAll(disposedError(this));
  }
}

// 5. The factory lists it in its `registry` once built.
function pause(options: PauseOptions): PausePolicy {
  return new PausePolicy(options).adopt();
}

// ---- its test ----------------------------------------------------------------------------------

const stops: Array<() => void> = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

describe('a policy defined in one file', () => {
  it('validates its options with the house messages', () => {
    expect(() => pause({ ms: -1 })).toThrow(new RangeError('pause: ms must be a finite number >= 0, got -1'));
    expect(() => pause({ ms: 1, name: 3 } as never)).toThrow(TypeError);
  });

  it('is listed, its event reaches the bus, and Prometheus shows its event, calls and gauge', async () => {
    const clock = new ManualClock();
    const registry = createRegistry({ clock });
    const prom = new PromRegistry();
    stops.push(collectPrometheus(registry, { register: prom }).stop);
    const seen: BusEvent[] = [];
    registry.events.on('event', (e) => seen.push(e));
    const p = pause({ name: 'p', ms: 10, clock, registry });
    expect(registry.get('p')).toBe(p);

    const call = p.execute(() => 'done');
    const text = async (): Promise<string> => await prom.metrics();
    expect(await text()).toMatch(/breakwater_queued\{policy="p",kind="pause"\} 1/);
    await clock.advance(10);
    expect(await call).toBe('done');

    expect(seen.map((e) => [e.policy, e.kind, e.event, e['ms']])).toEqual([['p', 'pause', 'paused', 10]]);
    const out = await text();
    expect(out).toMatch(/breakwater_events_total\{policy="p",kind="pause",event="paused"\} 1/);
    expect(out).toMatch(/breakwater_calls_total\{policy="p",kind="pause",outcome="success"\} 1/);
    expect(out).toMatch(/breakwater_queued\{policy="p",kind="pause"\} 0/);
    expect(p.metrics()).toMatchObject({ kind: 'pause', calls: 1, successes: 1, latencyMs: { max: 10 } });
  });

  it('stops waiting at once when the caller aborts, and dispose() clears its timers', async () => {
    const clock = new ManualClock();
    const p = pause({ ms: 1000, clock });
    const controller = new AbortController();
    const aborted = p.execute(() => 'never', { signal: controller.signal });
    controller.abort(new Error('gave up'));
    await expect(aborted).rejects.toThrow('gave up');
    expect(p.waiting).toBe(0);

    const pending = p.execute(() => 'never');
    const r = expect(pending).rejects.toThrow(/disposed/);
    p.dispose();
    await r;
    expect(clock.pendingTimers).toBe(0);
  });
});
