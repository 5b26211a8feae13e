// serveDashboard on real ports: where it binds and what it says.
import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../../src/index.js';
import { serveDashboard } from '../../../src/dashboard/index.js';

const registry = createRegistry();

describe('serveDashboard', () => {
  it('brackets an IPv6 host in its url', async () => {
    const s = await serveDashboard(registry, { host: '::1' });
    try {
      expect(s.url).toMatch(/^http:\/\/\[::1\]:\d+\/$/);
      expect((await fetch(`${s.url}snapshot`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('binds 127.0.0.1 by default and reports its url; a taken port rejects', async () => {
    const a = await serveDashboard(registry);
    try {
      expect(a.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(a.port).toBeGreaterThan(0);
      await expect(serveDashboard(registry, { port: a.port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await a.close();
    }
  });
});
