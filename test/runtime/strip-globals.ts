// The setup file of the stripped Node projects (see vitest.config.ts): it runs before the test
// file imports the package, and deletes the globals named in BREAKWATER_STRIP, so the package
// loads as it would in a browser (no `setImmediate`) or in a runtime with neither `setImmediate`
// nor `MessageChannel`. Every file of those projects then checks that the package really took
// the fallback it should, so a run that silently used `setImmediate` fails.
import { beforeAll, expect } from 'vitest';

const strip = (process.env['BREAKWATER_STRIP'] ?? '').split(',').filter((name) => name !== '');
const g = globalThis as Record<string, unknown>;
for (const name of strip) {
  delete g[name];
  if (name === 'setImmediate') delete g['clearImmediate'];
  if (typeof g[name] !== 'undefined') throw new Error(`could not remove globalThis.${name}`);
}
const expected = !strip.includes('setImmediate') ? 'setImmediate' : !strip.includes('MessageChannel') ? 'MessageChannel' : 'setTimeout';

beforeAll(async () => {
  const { endOfTurnPrimitive } = await import('../../src/clock.js');
  expect(endOfTurnPrimitive).toBe(expected);
});
