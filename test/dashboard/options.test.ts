// Every dashboard option is validated when the handler is built, in the house format.
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/index.js';
import { dashboard, serveDashboard } from '../../src/dashboard/index.js';
import { expectInvalid } from '../helpers.js';

const registry = createRegistry();
type Options = Parameters<typeof dashboard>[1];
const build = (o: unknown) => () => dashboard(registry, o as Options).close();

describe('dashboard options', () => {
  it('accepts the defaults and valid values', () => {
    expect(build(undefined)).not.toThrow();
    expect(build({ token: 'abc-DEF_123.~', intervalMs: 50, maxConnections: 1 })).not.toThrow();
    expect(build({ intervalMs: 3_600_000, maxConnections: 100_000, token: undefined })).not.toThrow();
  });

  it.each([
    [null, TypeError, 'dashboard: options must be an object, got null'],
    [[], TypeError, 'dashboard: options must be an object, got an array'],
    [{ token: 5 }, TypeError, 'dashboard: token must be a string, got 5'],
    [{ token: '' }, RangeError, 'dashboard: token must be a non-empty string of visible ASCII characters, got ""'],
    [{ token: 'has space' }, RangeError, 'dashboard: token must be a non-empty string of visible ASCII characters, got "has space"'],
    [{ token: 'né' }, RangeError, 'got "né"'],
    [{ intervalMs: '1000' }, TypeError, 'dashboard: intervalMs must be in [50, 3600000], got "1000"'],
    [{ intervalMs: 10 }, RangeError, 'dashboard: intervalMs must be in [50, 3600000], got 10'],
    [{ intervalMs: NaN }, RangeError, 'dashboard: intervalMs must be in [50, 3600000], got NaN'],
    [{ intervalMs: Infinity }, RangeError, 'got Infinity'],
    [{ maxConnections: 0 }, RangeError, 'dashboard: maxConnections must be an integer in [1, 100000], got 0'],
    [{ maxConnections: 2.5 }, RangeError, 'dashboard: maxConnections must be an integer in [1, 100000], got 2.5'],
    [{ maxConnections: true }, TypeError, 'dashboard: maxConnections must be an integer in [1, 100000], got true'],
    [{ clock: {} }, TypeError, 'dashboard: clock must be a Clock'],
    [{ interval: 1000 }, TypeError, 'dashboard: unknown option "interval" (did you mean "intervalMs"?)'],
    [{ maxConnection: 3 }, TypeError, 'dashboard: unknown option "maxConnection" (did you mean "maxConnections"?)'],
    [{ tokn: 'x' }, TypeError, 'dashboard: unknown option "tokn" (did you mean "token"?)'],
    [{ port: 80 }, TypeError, 'dashboard: unknown option "port"'],
    [{ zzzzzz: 1 }, TypeError, 'dashboard: unknown option "zzzzzz"'],
  ])('%j is refused', (options, error, message) => {
    expectInvalid(build(options), error, message);
  });

  it('names no hint when nothing is close', () => {
    expectInvalid(build({ zzzzzz: 1 }), TypeError, 'dashboard: unknown option "zzzzzz"');
    expect(() => build({ zzzzzz: 1 })()).toThrow(/^dashboard: unknown option "zzzzzz" \(known options: token, intervalMs, maxConnections, clock\)$/);
  });

  it('refuses something that is not a registry', () => {
    expectInvalid(() => dashboard({} as never), TypeError, 'dashboard: registry must be a registry from createRegistry(), got object');
    expectInvalid(() => dashboard(undefined as never), TypeError, 'got undefined');
  });

  it('does not mutate or keep the options object', () => {
    const o = Object.freeze({ token: 'abc', intervalMs: 100 });
    expect(build(o)).not.toThrow();
  });
});

describe('serveDashboard options', () => {
  it.each([
    [{ port: -1 }, RangeError, 'serveDashboard: port must be an integer in [0, 65535], got -1'],
    [{ port: 70000 }, RangeError, 'serveDashboard: port must be an integer in [0, 65535], got 70000'],
    [{ port: '80' }, TypeError, 'serveDashboard: port must be an integer in [0, 65535], got "80"'],
    [{ host: 1 }, TypeError, 'serveDashboard: host must be a string, got 1'],
    [{ host: '' }, RangeError, 'serveDashboard: host must be a non-empty string, got ""'],
    [{ hostname: 'x' }, TypeError, 'serveDashboard: unknown option "hostname" (did you mean "host"?)'],
    [{ intervalMs: 1 }, RangeError, 'serveDashboard: intervalMs must be in [50, 3600000], got 1'],
  ])('%j is refused before listening', async (options, error, message) => {
    let thrown: unknown;
    try {
      await serveDashboard(registry, options as never);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(error);
    expect((thrown as Error).message).toContain(message);
  });
});
