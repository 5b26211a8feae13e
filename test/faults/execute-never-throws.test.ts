// `execute` always returns a promise: hostile options and signals (throwing getters, a throwing
// `aborted` or `addEventListener`, revoked Proxies) become rejections, over every policy.
import { describe, it, expect } from 'vitest';
import { ManualClock } from '../../src/testing/index.js';
import { factories } from './policies.js';

const boom = new Error('hostile');
function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}
const cases: Record<string, () => unknown> = {
  'a throwing signal getter': () => ({
    get signal(): never {
      throw boom;
    },
  }),
  'a signal whose aborted throws': () => ({
    signal: {
      get aborted(): never {
        throw boom;
      },
      addEventListener() {},
      removeEventListener() {},
    },
  }),
  'a signal whose aborted throws on the second read': () => {
    let reads = 0;
    return {
      signal: {
        get aborted(): boolean {
          if (++reads > 1) throw boom;
          return false;
        },
        addEventListener() {},
        removeEventListener() {},
      },
    };
  },
  'a signal whose addEventListener throws': () => ({
    signal: {
      aborted: false,
      addEventListener() {
        throw boom;
      },
      removeEventListener() {},
    },
  }),
  'a revoked Proxy as options': () => revoked(),
  'a revoked Proxy as signal': () => ({ signal: revoked() }),
};

describe('execute never throws synchronously', () => {
  for (const [kind, make] of Object.entries(factories)) {
    for (const [name, options] of Object.entries(cases)) {
      it(`${kind} with ${name}`, async () => {
        const policy = make(new ManualClock());
        let ran = false;
        let result: unknown;
        expect(() => {
          result = policy.execute(() => {
            ran = true;
            return 1;
          }, options() as never);
        }).not.toThrow();
        expect(result).toBeInstanceOf(Promise);
        await expect(result).rejects.toBeInstanceOf(Error);
        expect(ran).toBe(false);
        policy.dispose();
      });
    }
  }

  it('a signal whose removeEventListener throws still settles the call', async () => {
    for (const make of Object.values(factories)) {
      const policy = make(new ManualClock());
      const signal = {
        aborted: false,
        addEventListener() {},
        removeEventListener() {
          throw boom;
        },
      };
      await expect(policy.execute(() => 7, { signal } as never)).resolves.not.toBeUndefined();
      policy.dispose();
    }
  });
});
