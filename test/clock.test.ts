import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src/index.js';

describe('systemClock', () => {
  it('is monotonic milliseconds', () => {
    const a = systemClock.now();
    const b = systemClock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(typeof a).toBe('number');
  });

  it('fires and clears timers', async () => {
    let fired = false;
    const cleared = systemClock.setTimeout(() => (fired = true), 1);
    systemClock.clearTimeout(cleared);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 2));
    expect(fired).toBe(false);
  });

  it('never keeps the process alive', () => {
    const src = fileURLToPath(new URL('../src/clock.ts', import.meta.url));
    const started = Date.now();
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', `import(${JSON.stringify(src)}).then((m) => m.systemClock.setTimeout(() => console.log('fired'), 60000))`],
      { encoding: 'utf8', timeout: 20000 },
    );
    expect(child.status).toBe(0);
    expect(child.stdout).not.toContain('fired');
    expect(Date.now() - started).toBeLessThan(20000);
  });
});

describe('turn clock (metrics time for systemClock)', () => {
  it('reads the clock once per event-loop turn', async () => {
    const { turnNow, metricsTime } = await import('../src/clock.js');
    const a = turnNow();
    const spin = performance.now() + 2;
    while (performance.now() < spin) {
      /* 2 ms of synchronous work in the same turn */
    }
    expect(turnNow()).toBe(a);
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(turnNow()).toBeGreaterThanOrEqual(a + 2);
    expect(metricsTime(systemClock)).toBe(turnNow);
  });

  it('is not used for other clocks: a ManualClock stays exact', async () => {
    const { metricsTime } = await import('../src/clock.js');
    const { ManualClock } = await import('../src/testing/index.js');
    const c = new ManualClock(5);
    const read = metricsTime(c);
    expect(read()).toBe(5);
    await c.advance(3);
    expect(read()).toBe(8);
  });
});
