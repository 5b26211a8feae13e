// One AbortSignal shared by many concurrent calls: breakwater keeps one listener on it, not one
// per call, so Node prints no MaxListenersExceededWarning, and the listener goes with the calls.
import { describe, it, expect, afterEach } from 'vitest';
import { getEventListeners } from 'node:events';
import { bulkhead, pipeline, retry, timeout } from '../../src/index.js';
import { ManualClock } from '../../src/testing/index.js';
import { gate } from '../helpers.js';
import { factories } from './policies.js';

const warnings: Error[] = [];
const onWarning = (w: Error): void => {
  warnings.push(w);
};
process.on('warning', onWarning);
afterEach(() => {
  warnings.length = 0;
});

async function turn(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('a shared signal', () => {
  it('50 concurrent calls on one signal add one listener and no warning', async () => {
    const clock = new ManualClock();
    const p = pipeline(retry({ clock }), timeout({ durationMs: 1000, clock }), bulkhead({ maxConcurrent: 100, clock }));
    const controller = new AbortController();
    const gates = Array.from({ length: 50 }, () => gate<number>());
    const calls = gates.map((g) => p.execute(() => g.promise, { signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    gates.forEach((g, i) => g.resolve(i));
    await expect(Promise.all(calls)).resolves.toHaveLength(50);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    await turn();
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('an abort rejects every call that shares the signal, with its reason', async () => {
    for (const make of Object.values(factories)) {
      const policy = make(new ManualClock());
      const controller = new AbortController();
      const calls = Array.from({ length: 20 }, () => policy.execute(() => new Promise(() => {}), { signal: controller.signal }));
      const settled = Promise.allSettled(calls);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
      const reason = new Error('gone');
      controller.abort(reason);
      const results = await settled;
      expect(results.map((r) => (r.status === 'rejected' ? r.reason : r.value))).toEqual(calls.map(() => reason));
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
      policy.dispose();
    }
    await turn();
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
  });

  it('calls that settle one by one keep the listener until the last leaves; a later call re-adds it', async () => {
    const t = timeout({ durationMs: 1000, clock: new ManualClock() });
    const controller = new AbortController();
    const a = gate<number>();
    const b = gate<number>();
    const pa = t.execute(() => a.promise, { signal: controller.signal });
    const pb = t.execute(() => b.promise, { signal: controller.signal });
    a.resolve(1);
    await pa;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    b.resolve(2);
    await pb;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    const c = gate<number>();
    const pc = t.execute(() => c.promise, { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const r = expect(pc).rejects.toBe('late');
    controller.abort('late');
    await r;
  });
});
