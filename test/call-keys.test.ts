// Call keys: `execute(fn, { key })` reaches the policies that group calls through every other
// policy (retries, hedges, timeouts, nested pipelines, foreign policies), and
// `wrap(fn, { key, signal: 'last' })` derives the key and the signal from the arguments.
import { describe, expect, it } from 'vitest';
import {
  bulkhead,
  circuitBreaker,
  DisposedError,
  fallback,
  hedge,
  isBreakwaterError,
  pipeline,
  policyPool,
  retry,
  timeout,
  type AttemptContext,
  type ExecuteOptions,
  type Policy,
} from '../src/index.js';
import { ManualClock } from '../src/testing/index.js';
import { gate } from './helpers.js';

/** A pool whose factory records the keys it was asked for, each key's policy a pass-through. */
function keyRecorder(): { pool: Policy; keys: string[] } {
  const keys: string[] = [];
  const pool = policyPool((key) => {
    keys.push(key);
    return bulkhead({ maxConcurrent: 100, metrics: false });
  });
  return { pool, keys };
}

describe('call keys', () => {
  it('reach a pool through retry, hedge, timeout and a nested pipeline, on every attempt', async () => {
    const clock = new ManualClock();
    const { pool, keys } = keyRecorder();
    const seen: Array<string | undefined> = [];
    const spy = policyPool((key) => {
      seen.push(key);
      return timeout({ durationMs: 1000, clock });
    }, { clock });
    const p = pipeline(
      fallback('fb'),
      retry({ maxAttempts: 3, clock }),
      hedge({ delayMs: 5, clock }),
      pipeline(timeout({ durationMs: 100, clock }), pool),
      spy,
    );
    let n = 0;
    const call = p.execute(() => {
      n++;
      if (n < 3) throw new Error('boom');
      return 'ok';
    }, { key: 'k1' });
    await clock.advance(10_000);
    expect(await call).toBe('ok');
    expect(n).toBe(3);
    // Built once per key, used on each attempt.
    expect(keys).toEqual(['k1']);
    expect(seen).toEqual(['k1']);
  });

  it('a call with a signal carries its key too', async () => {
    const { pool, keys } = keyRecorder();
    const c = new AbortController();
    await pipeline(retry(), pool).execute(() => 1, { key: 'a', signal: c.signal });
    expect(keys).toEqual(['a']);
  });

  it('reach a pool inside a foreign policy (public contract only)', async () => {
    const { pool, keys } = keyRecorder();
    const received: Array<ExecuteOptions | undefined> = [];
    const foreignPolicy = {
      ...retry(),
      name: 'foreign',
      kind: 'foreign',
      execute<T>(fn: (ctx: AttemptContext) => T | PromiseLike<T>, options?: ExecuteOptions): Promise<T> {
        received.push(options);
        return Promise.resolve(fn({ signal: new AbortController().signal, attempt: 1 }));
      },
    } as unknown as Policy;
    await pipeline(foreignPolicy, pool).execute(() => 1, { key: 'via-foreign' });
    expect(received[0]?.key).toBe('via-foreign');
    expect(keys).toEqual(['via-foreign']);
  });

  it('a key that is not a string is a TypeError naming the policy', async () => {
    await expect(retry().execute(() => 1, { key: 5 as never })).rejects.toThrow(new TypeError('retry: key must be a string, got 5'));
  });

  it('other policies ignore the key', async () => {
    expect(await circuitBreaker().execute(() => 7, { key: 'x' })).toBe(7);
  });
});

describe('wrap options', () => {
  it('key derives the key from the arguments and keeps this', async () => {
    const { pool, keys } = keyRecorder();
    const client = {
      base: 'https://a.example',
      get(path: string): Promise<string> {
        return Promise.resolve(this.base + path);
      },
    };
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the point: wrap keeps `this`
    const get = pool.wrap(client.get, { key: (path) => path.split('/')[1] ?? '' });
    const bound = { base: 'https://b.example', get };
    expect(await bound.get('/users/1')).toBe('https://b.example/users/1');
    expect(await bound.get('/orders/1')).toBe('https://b.example/orders/1');
    expect(keys).toEqual(['users', 'orders']);
  });

  it('a throwing key function rejects the call without running fn', async () => {
    let ran = false;
    const f = retry().wrap(
      () => {
        ran = true;
      },
      {
        key: () => {
          throw new Error('no key');
        },
      },
    );
    await expect(f()).rejects.toThrow('no key');
    expect(ran).toBe(false);
  });

  it("signal 'last': a trailing AbortSignal is the call's signal; fn gets the attempt's", async () => {
    const clock = new ManualClock();
    const got: AbortSignal[] = [];
    const g = gate<string>();
    const f = timeout({ durationMs: 100, clock }).wrap(
      (id: string, signal?: AbortSignal) => {
        got.push(signal as AbortSignal);
        return g.promise.then((v) => `${id}:${v}`);
      },
      { signal: 'last' },
    );
    const c = new AbortController();
    const call = f('1', c.signal);
    const r = expect(call).rejects.toBe('stop');
    await clock.advance(0);
    expect(got[0]).toBeInstanceOf(AbortSignal);
    expect(got[0]).not.toBe(c.signal);
    expect(got[0]?.aborted).toBe(false);
    c.abort('stop');
    await r;
    expect(got[0]?.aborted).toBe(true);
    g.resolve('late');
  });

  it("signal 'last': fewer arguments than declared puts the attempt's signal at fn.length - 1", async () => {
    const clock = new ManualClock();
    const got: unknown[][] = [];
    const f = timeout({ durationMs: 50, clock }).wrap(
      (id: string, signal?: AbortSignal) => {
        got.push([id, signal]);
        return new Promise<string>((_, reject) => signal?.addEventListener('abort', () => reject(signal.reason as Error)));
      },
      { signal: 'last' },
    );
    const call = f('1');
    const r = expect(call).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await clock.advance(50);
    await r;
    expect(got[0]?.[0]).toBe('1');
    const s = got[0]?.[1] as AbortSignal;
    expect(s.aborted).toBe(true);
    expect(isBreakwaterError(s.reason, 'ETIMEDOUT')).toBe(true);
    // An explicit undefined in the signal's place is the same.
    const again = f('2', undefined);
    const r2 = expect(again).rejects.toMatchObject({ code: 'ETIMEDOUT' });
    await clock.advance(50);
    await r2;
    expect(got[1]?.[1]).toBeInstanceOf(AbortSignal);
  });

  it("signal 'last' with every argument given and no signal passes them unchanged", async () => {
    const f = retry().wrap((a: number, b: number) => a + b, { signal: 'last' });
    expect(await f(1, 2)).toBe(3);
  });

  it('a pre-aborted trailing signal rejects at once without calling fn', async () => {
    let ran = false;
    const f = retry().wrap(
      (_signal?: AbortSignal) => {
        ran = true;
      },
      { signal: 'last' },
    );
    await expect(f(AbortSignal.abort('gone'))).rejects.toBe('gone');
    expect(ran).toBe(false);
  });

  it('validates its options', () => {
    const r = retry();
    expect(() => r.wrap(() => 1, { signal: 'first' as never })).toThrow(RangeError);
    expect(() => r.wrap(() => 1, { key: 'id' as never })).toThrow(new TypeError('retry: wrap key must be a function, got "id"'));
    expect(() => r.wrap(() => 1, { keys: () => 'x' } as never)).toThrow(/retry: unknown wrap options "keys" \(did you mean "key"\?\)/);
  });
});

describe('disposed policies', () => {
  it('reject with DisposedError (EDISPOSED, policy: its name)', async () => {
    const p = retry({ name: 'orders' });
    p.dispose();
    const e: unknown = await p.execute(() => 1).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DisposedError);
    expect(isBreakwaterError(e, 'EDISPOSED')).toBe(true);
    expect((e as DisposedError).policy).toBe('orders');
    expect((e as Error).message).toBe("retry 'orders' is disposed");
  });
});

describe('a factory passed as a policy', () => {
  it('pipeline(retry) says "did you mean retry()?"', () => {
    expect(() => pipeline(retry as never)).toThrow(new TypeError('pipeline: argument 1 must be a policy, got a function (did you mean retry()?)'));
  });
});
