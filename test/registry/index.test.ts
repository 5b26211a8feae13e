import { describe, it, expect, vi } from 'vitest';
import { createRegistry, TAP, type BusEvent, type Registry } from '../../src/registry/index.js';
import { fallback } from '../../src/fallback.js';
import { timeout } from '../../src/timeout.js';
import { pipeline } from '../../src/pipeline.js';
import { type Ctx, type Fn, RUN, invoke } from '../../src/internal/run.js';
import type { CommonOptions, Policy } from '../../src/contract.js';
import { PolicyBase } from '../../src/policy-base.js';
import { FAILURES, SUCCESSES } from '../../src/metrics/rolling-window.js';
import { describePolicy } from '../../src/internal/descriptor.js';
import { TimeoutError } from '../../src/errors.js';
import { ManualClock } from '../../src/testing/index.js';

interface GateEvents {
  stateChange: { from: string; to: string; at: number };
  rejected: { state: string };
}

const GATE = describePolicy({
  kind: 'circuitBreaker',
  events: { stateChange: 'warning', rejected: 'error' },
  gauges: { state: (g: Gate) => g.state },
  states: ['closed', 'open'],
});

/** A minimal stateful policy (a two-state gate), standing in for a circuit breaker. */
class Gate extends PolicyBase<GateEvents> {
  state = 'closed';
  constructor(options: CommonOptions = {}) {
    super(GATE, options as Readonly<Record<string, unknown>>);
  }
  [RUN]<T>(fn: Fn<T>, ctx: Ctx): Promise<T> {
    if (this.state === 'open') {
      this.recordRejection();
      if (this.events.has('rejected')) this.events.emit('rejected', { state: 'open' });
      return Promise.reject(new Error('open'));
    }
    const started = this.start();
    return invoke(fn, ctx).then(
      (v) => (this.record(SUCCESSES, started), v),
      (e: unknown) => {
        this.record(FAILURES, started);
        throw e;
      },
    );
  }
  set(to: string, at = 0): void {
    const from = this.state;
    this.state = to;
    if (this.events.has('stateChange')) this.events.emit('stateChange', { from, to, at });
  }
}
const gate = (options: CommonOptions = {}): Gate => new Gate(options).adopt();

/** Listener counts a policy's events hold, by name (the registry's `dispose` listener included). */
function listeners(p: Policy): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of p.events.eventNames()) out[String(n)] = p.events.listenerCount(n);
  return out;
}

async function timeOut(reg: Registry, clock: ManualClock, name = 't'): Promise<void> {
  const t = reg.get(name) ?? timeout({ durationMs: 10, clock, name, registry: reg });
  const call = expect(t.execute(() => new Promise(() => {}))).rejects.toBeInstanceOf(TimeoutError);
  await clock.advance(10);
  await call;
}

describe('createRegistry', () => {
  it('validates its options', () => {
    expect(() => createRegistry(5 as never)).toThrow(new TypeError('registry: options must be an object, got 5'));
    expect(() => createRegistry({ clock: {} as never })).toThrow(TypeError);
    expect(() => createRegistry({ clock: new ManualClock() })).not.toThrow();
  });

  it('lists a policy created with `registry` under its name, in order', () => {
    const reg = createRegistry();
    const a = timeout({ durationMs: 5, name: 'a', registry: reg });
    const b = fallback(0, { registry: reg });
    expect(reg.get('a')).toBe(a);
    expect(reg.get(b.name)).toBe(b);
    expect(reg.get('nope')).toBeUndefined();
    expect(reg.list()).toEqual([a, b]);
    expect(reg.list()).not.toBe(reg.list());
  });

  it('add returns the policy, ignores a repeat, and throws on a duplicate name', () => {
    const reg = createRegistry();
    const a = timeout({ durationMs: 5, name: 'dup' });
    expect(reg.add(a)).toBe(a);
    expect(reg.add(a)).toBe(a);
    expect(reg.list()).toEqual([a]);
    expect(() => timeout({ durationMs: 5, name: 'dup', registry: reg })).toThrow(
      'registry: a policy named "dup" is already listed (a timeout)',
    );
    expect(reg.list()).toEqual([a]);
  });

  it('add rejects what is not a policy, and disposed policies', () => {
    const reg = createRegistry();
    expect(() => reg.add({} as never)).toThrow(new TypeError('registry: add argument must be a policy, got an object'));
    expect(() => reg.add(null as never)).toThrow(TypeError);
    const t = timeout(5);
    t.dispose();
    expect(() => reg.add(t)).toThrow(/disposed/);
  });

  it('policies validate the registry option', () => {
    expect(() => timeout({ durationMs: 5, registry: {} as never })).toThrow(TypeError);
  });

  it('snapshot returns metrics() of every listed policy in list order', async () => {
    const clock = new ManualClock();
    const reg = createRegistry();
    const f = fallback(0, { name: 'f', clock, registry: reg });
    await f.execute(() => 1);
    await f.execute(() => Promise.reject(new Error('x')));
    timeout({ durationMs: 5, name: 't', clock, registry: reg });
    const snap = reg.snapshot();
    expect(snap.map((m) => m.name)).toEqual(['f', 't']);
    expect(snap[0]).toMatchObject({ kind: 'fallback', calls: 2, successes: 2, fallbacks: 1 });
    expect(snap[1]).toMatchObject({ kind: 'timeout', calls: 0 });
  });
});

describe('pipelines in a registry', () => {
  it('a pipeline lists its members, skipping those already listed', () => {
    const reg = createRegistry();
    const t = timeout({ durationMs: 5, name: 't', registry: reg });
    const f = fallback(0, { name: 'f' });
    const p = pipeline(f, t, { name: 'p', registry: reg });
    expect(reg.list()).toEqual([t, p, f]);
    expect(reg.get('f')).toBe(f);
  });

  it('lists nested pipelines and the same member once', () => {
    const reg = createRegistry();
    const t = timeout({ durationMs: 5, name: 't' });
    const inner = pipeline(t, { name: 'inner' });
    const outer = pipeline(inner, t, { name: 'outer', registry: reg });
    expect(reg.list().map((p) => p.name)).toEqual(['outer', 'inner', 't']);
    expect(reg.get('inner')).toBe(inner);
    expect(reg.get('outer')).toBe(outer);
  });

  it('a name conflict anywhere in a pipeline lists nothing', () => {
    const reg = createRegistry();
    timeout({ durationMs: 5, name: 'x', registry: reg });
    const p = pipeline(fallback(0, { name: 'ok' }), pipeline(timeout({ durationMs: 1, name: 'x' })), { name: 'p' });
    expect(() => reg.add(p)).toThrow(/"x" is already listed/);
    expect(reg.list().map((q) => q.name)).toEqual(['x']);
    // Two different members sharing a name conflict with each other too.
    const q = pipeline(fallback(0, { name: 'same' }), fallback(1, { name: 'same' }), { name: 'q' });
    expect(() => reg.add(q)).toThrow(/"same" is already listed/);
    expect(reg.get('q')).toBeUndefined();
  });

  it('removing a pipeline delists the members it brought in, not those added by hand or still held', () => {
    const reg = createRegistry();
    const byHand = timeout({ durationMs: 5, name: 'byHand', registry: reg });
    const shared = fallback(0, { name: 'shared' });
    const own = fallback(0, { name: 'own' });
    const p1 = pipeline(byHand, shared, own, { name: 'p1', registry: reg });
    pipeline(shared, { name: 'p2', registry: reg });
    expect(reg.list().map((p) => p.name)).toEqual(['byHand', 'p1', 'shared', 'own', 'p2']);
    expect(reg.remove('p1')).toBe(true);
    expect(reg.list().map((p) => p.name)).toEqual(['byHand', 'shared', 'p2']);
    p1.dispose(); // already delisted: nothing happens
    reg.remove('p2');
    expect(reg.list().map((p) => p.name)).toEqual(['byHand']);
    // Nothing the registry attached is left on the members.
    expect(listeners(shared)).toEqual({});
    expect(listeners(own)).toEqual({});
  });

  it('a member listed by a pipeline and then by hand stays when the pipeline goes', () => {
    const reg = createRegistry();
    const m = fallback(0, { name: 'm' });
    const p = pipeline(m, { name: 'p', registry: reg });
    reg.add(m);
    p.dispose();
    expect(reg.list()).toEqual([m]);
  });
});

describe('the bus', () => {
  it('re-emits an event under its name and as `event`, with policy, kind, at and event', async () => {
    const clock = new ManualClock(1000);
    const reg = createRegistry({ clock });
    const named: BusEvent[] = [];
    const all: BusEvent[] = [];
    reg.events.on('timeout', (e) => named.push(e));
    reg.events.on('event', (e) => all.push(e));
    await timeOut(reg, clock);
    const expected = { timeoutMs: 10, policy: 't', kind: 'timeout', at: 1010, event: 'timeout' };
    expect(named).toEqual([expected]);
    expect(all).toEqual([expected]);
  });

  it('keeps a payload’s own `at` and its other fields', () => {
    const clock = new ManualClock(50);
    const reg = createRegistry({ clock });
    const g = gate({ name: 'g', registry: reg });
    const seen = vi.fn();
    reg.events.on('stateChange', seen);
    g.set('open', 7);
    expect(seen).toHaveBeenCalledWith({ from: 'closed', to: 'open', at: 7, policy: 'g', kind: 'circuitBreaker', event: 'stateChange' });
  });

  it('subscribes to a policy’s events only while the bus listens for them', async () => {
    const clock = new ManualClock();
    const reg = createRegistry({ clock });
    const t = timeout({ durationMs: 10, clock, name: 't', registry: reg });
    // The registry forwards through the emitter's one slot, not per-name listeners: the policy's
    // own listener list holds only the registry's `dispose` hook.
    expect(listeners(t)).toEqual({ dispose: 1 });
    expect(t.events.has('timeout')).toBe(false); // so the timeout builds no payload

    const onTimeout = vi.fn();
    reg.events.on('timeout', onTimeout);
    expect(t.events.has('timeout')).toBe(true);
    expect(t.events.has('retry' as never)).toBe(false);
    const onAny = vi.fn();
    reg.events.on('event', onAny);
    expect(t.events.has('retry' as never)).toBe(true);
    expect(t.events.has('listenerError')).toBe(false); // a listener error stays with its emitter
    await timeOut(reg, clock);
    expect(onTimeout).toHaveBeenCalledTimes(1);
    expect(onAny).toHaveBeenCalledTimes(1);

    reg.events.off('event', onAny);
    expect(t.events.has('timeout')).toBe(true);
    expect(t.events.has('retry' as never)).toBe(false);
    reg.events.removeAllListeners();
    expect(t.events.has('timeout')).toBe(false);
    expect(listeners(t)).toEqual({ dispose: 1 });

    // A `once` listener unsubscribes after it fired.
    const once = vi.fn();
    reg.events.once('timeout', once);
    expect(t.events.has('timeout')).toBe(true);
    await timeOut(reg, clock);
    await timeOut(reg, clock);
    expect(once).toHaveBeenCalledTimes(1);
    expect(t.events.has('timeout')).toBe(false);
  });

  it('subscribes policies added while the bus listens', async () => {
    const clock = new ManualClock();
    const reg = createRegistry({ clock });
    const seen = vi.fn();
    reg.events.on('timeout', seen);
    await timeOut(reg, clock, 'late');
    expect(seen).toHaveBeenCalledWith(expect.objectContaining({ policy: 'late' }));
  });

  it('follows any event name a listener asks for, for policies from elsewhere', () => {
    const reg = createRegistry();
    const g = gate({ registry: reg });
    const seen = vi.fn();
    (reg.events as unknown as { on(e: string, f: (p: unknown) => void): void }).on('custom', seen);
    (g.events as unknown as { emit(e: string, p: unknown): void }).emit('custom', { x: 1 });
    expect(seen).toHaveBeenCalledWith(expect.objectContaining({ x: 1, policy: g.name, event: 'custom' }));
  });

  it('keeps its own fields when a payload has fields of the same names', () => {
    const reg = createRegistry({ clock: new ManualClock(9) });
    const g = gate({ name: 'g', registry: reg });
    const seen = vi.fn();
    reg.events.on('event', seen);
    (g.events as unknown as { emit(e: string, p: unknown): void }).emit('rejected', { policy: 'x', kind: 'y', event: 'z', extra: 1 });
    expect(seen).toHaveBeenCalledWith({ policy: 'g', kind: 'circuitBreaker', event: 'rejected', at: 9, extra: 1 });
  });

  it('announces the current state of a policy that has one when it is added', () => {
    const reg = createRegistry({ clock: new ManualClock(3) });
    const states: BusEvent[] = [];
    reg.events.on('stateChange', (e) => states.push(e));
    const g = new Gate({ name: 'g' });
    g.state = 'open';
    reg.add(g);
    timeout({ durationMs: 5, registry: reg }); // no state: nothing announced
    expect(states).toEqual([{ from: 'open', to: 'open', initial: true, policy: 'g', kind: 'circuitBreaker', at: 3, event: 'stateChange' }]);
  });

  it('delists a disposed policy, re-emits its dispose and detaches everything', async () => {
    const clock = new ManualClock();
    const reg = createRegistry({ clock });
    const onDispose = vi.fn();
    const onTimeout = vi.fn();
    reg.events.on('dispose', onDispose);
    reg.events.on('timeout', onTimeout);
    const t = timeout({ durationMs: 10, clock, name: 't', registry: reg });
    t.dispose();
    expect(onDispose).toHaveBeenCalledWith(expect.objectContaining({ name: 't', policy: 't', event: 'dispose' }));
    expect(reg.get('t')).toBeUndefined();
    expect(listeners(t)).toEqual({});
    // The name is free again.
    await timeOut(reg, clock, 't');
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it('remove(name) detaches the registry’s listeners and frees the name', async () => {
    const clock = new ManualClock();
    const reg = createRegistry({ clock });
    const seen = vi.fn();
    reg.events.on('event', seen);
    const t = timeout({ durationMs: 10, clock, name: 't', registry: reg });
    const mine = vi.fn();
    t.events.on('timeout', mine);
    expect(reg.remove('t')).toBe(true);
    expect(reg.remove('t')).toBe(false);
    expect(listeners(t)).toEqual({ timeout: 1 }); // the user's own listener stays
    const call = expect(t.execute(() => new Promise(() => {}))).rejects.toBeInstanceOf(TimeoutError);
    await clock.advance(10);
    await call;
    expect(mine).toHaveBeenCalledTimes(1);
    expect(seen).not.toHaveBeenCalled();
  });

  it('a throwing bus listener never changes the call and is reported as the bus’s listenerError', async () => {
    const clock = new ManualClock();
    const reg = createRegistry({ clock });
    const boom = new Error('listener');
    reg.events.on('timeout', () => {
      throw boom;
    });
    const errors = vi.fn();
    reg.events.on('listenerError', errors);
    await timeOut(reg, clock);
    expect(errors).toHaveBeenCalledWith({ event: 'timeout', error: boom });
  });

  it('does not forward a policy’s own listenerError', () => {
    const reg = createRegistry();
    const g = gate({ registry: reg });
    const all = vi.fn();
    reg.events.on('event', all);
    expect(g.events.has('listenerError')).toBe(false);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    g.events.on('stateChange', () => {
      throw new Error('x');
    });
    g.set('open');
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    expect(all.mock.calls.map(([e]) => (e as BusEvent).event)).toEqual(['stateChange']);
  });

  it('a policy in two registries reaches both buses', async () => {
    const clock = new ManualClock();
    const r1 = createRegistry({ clock });
    const r2 = createRegistry({ clock });
    const t = timeout({ durationMs: 10, clock, name: 't', registry: r1 });
    r2.add(t);
    const a = vi.fn();
    const b = vi.fn();
    r1.events.on('timeout', a);
    r2.events.on('timeout', b);
    await timeOut(r1, clock);
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(1);
    t.dispose();
    expect(r1.list()).toEqual([]);
    expect(r2.list()).toEqual([]);
  });
});

describe('exporter taps', () => {
  it('observe every recorded outcome of listed policies, and stop when detached', async () => {
    const clock = new ManualClock();
    const reg = createRegistry();
    const g = gate({ name: 'g', clock, registry: reg });
    const calls: Array<[string, string, number]> = [];
    const removed: string[] = [];
    const detach = reg[TAP]({ call: (p, outcome, ms) => calls.push([p.name, outcome, ms]), removed: (p) => removed.push(p.name) });
    const late = gate({ name: 'late', clock, registry: reg });
    await g.execute(async () => {
      await clock.advance(5);
      return 1;
    });
    g.set('open');
    await expect(g.execute(() => 1)).rejects.toThrow('open');
    await expect(late.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(calls).toEqual([
      ['g', 'success', 5],
      ['g', 'rejected', 0],
      ['late', 'failure', 0],
    ]);
    reg.remove('late');
    expect(removed).toEqual(['late']);
    detach();
    detach();
    await expect(g.execute(() => 1)).rejects.toThrow('open');
    expect(calls).toHaveLength(3);
  });

  it('two taps and two registries each see every call; none is left behind', async () => {
    const r1 = createRegistry();
    const r2 = createRegistry();
    const g = gate({ name: 'g', registry: r1 });
    r2.add(g);
    const a = vi.fn();
    const b = vi.fn();
    const c = vi.fn();
    const da = r1[TAP]({ call: a });
    const db = r1[TAP]({ call: b });
    const dc = r2[TAP]({ call: c });
    await g.execute(() => 1);
    expect([a.mock.calls.length, b.mock.calls.length, c.mock.calls.length]).toEqual([1, 1, 1]);
    da();
    db();
    dc();
    const slot = Object.getOwnPropertySymbols(g).find((s) => s.description === 'breakwater.observer') as symbol;
    expect((g as unknown as Record<symbol, unknown>)[slot]).toBeUndefined();
  });
});
