// After a test: no connection left on the server but the probe's own, and no timer left behind.
import { expect } from 'vitest';
import type { RedisServer } from './server.js';
import { within } from './server.js';

export function resourcesNow(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

export async function expectNoLeaks(server: RedisServer, timersBefore: number): Promise<void> {
  // CLIENT LIST counts the probe connection itself.
  await within(1000, async () => ((await server.command('CLIENT', 'LIST')).match(/^id=/gm) ?? []).length === 1);
  await within(1000, () => resourcesNow() <= timersBefore);
  expect(resourcesNow()).toBeLessThanOrEqual(timersBefore);
}
