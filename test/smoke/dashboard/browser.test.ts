// The dashboard page in a real headless Chromium (Debian's /usr/bin/chromium through
// playwright-core): cards per policy, a state change within 2 s, names shown as text, no CSP
// violation, and a screenshot after demo-like traffic (test-output/dashboard.png; with
// UPDATE_SCREENSHOT=1 it also replaces docs/dashboard.png).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { type Chromium, launchChromium } from '../chromium.js';
import { circuitBreaker, createRegistry, pipeline, retry, timeout, bulkhead, fallback } from '../../../src/index.js';
import { serveDashboard, type DashboardServer } from '../../../src/dashboard/index.js';
import { startFleet } from './fleet.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
let browser: Chromium | undefined;
let context: BrowserContext;

beforeAll(async () => {
  browser = await launchChromium({ viewport: { width: 1280, height: 800 } });
  context = browser.context;
}, 60_000);

afterAll(async () => {
  await browser?.close();
});

/** A page that fails the test on any script error or CSP violation. */
async function newPage(): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  return { page, problems };
}


describe('the dashboard page in Chromium', () => {
  let server: DashboardServer | undefined;
  afterAll(async () => {
    await server?.close();
  });

  it('renders a card per listed policy, grouped by pipeline', async () => {
    const registry = createRegistry();
    pipeline(fallback(null, { name: 'fb' }), retry({ name: 'rt' }), circuitBreaker({ name: 'cb' }), timeout({ name: 'to', durationMs: 100 }), { name: 'api', registry });
    bulkhead({ name: 'lonely-bulkhead', maxConcurrent: 3, registry });
    server = await serveDashboard(registry, { intervalMs: 200 });
    const { page, problems } = await newPage();
    await page.goto(server.url);
    await page.waitForFunction((n) => document.querySelectorAll('article.card').length === n, registry.list().length);
    const layout = await page.evaluate(() =>
      Array.from(document.querySelectorAll('section.group')).map((g) => ({
        title: g.querySelector('h2')?.textContent,
        cards: Array.from(g.querySelectorAll('article.card')).map((c) => (c as HTMLElement).dataset['name']),
      })),
    );
    expect(layout).toEqual([
      { title: 'api', cards: ['api', 'fb', 'rt', 'cb', 'to'] },
      { title: 'Other policies', cards: ['lonely-bulkhead'] },
    ]);
    const card = await page.evaluate(() => {
      const c = Array.from(document.querySelectorAll('article.card')).find((e) => (e as HTMLElement).dataset['name'] === 'cb') as HTMLElement;
      return { state: c.querySelector('.state')?.textContent, kind: c.querySelector('.kind')?.textContent, labels: Array.from(c.querySelectorAll('.stat .l')).map((l) => l.textContent) };
    });
    expect(card).toEqual({ state: 'closed', kind: 'circuitBreaker', labels: ['calls/s', 'errors', 'p50', 'p99', 'rejected', 'fallbacks'] });
    const bh = await page.evaluate(() => {
      const c = Array.from(document.querySelectorAll('article.card')).find((e) => (e as HTMLElement).dataset['name'] === 'lonely-bulkhead') as HTMLElement;
      return Array.from(c.querySelectorAll('.stat')).map((s) => `${s.querySelector('.l')?.textContent}=${s.querySelector('.v')?.textContent}`);
    });
    expect(bh).toEqual(expect.arrayContaining(['executing=0', 'queued=0', 'limit=3']));
    expect(await page.evaluate(() => document.getElementById('status')?.textContent)).toBe('live');
    expect(problems).toEqual([]);
    await page.close();
    await server.close();
    server = undefined;
  });

  it("shows a breaker's move from closed to open within 2 s", async () => {
    const registry = createRegistry();
    const cb = circuitBreaker({ name: 'payments', registry, window: { type: 'consecutive', failures: 1 }, openDurationMs: 60_000 });
    server = await serveDashboard(registry); // the default 1 s interval
    const { page, problems } = await newPage();
    await page.goto(server.url);
    const stateOf = () =>
      page.evaluate(() => {
        const c = document.querySelector<HTMLElement>('article.card');
        return c === null ? null : { data: c.dataset['state'], text: c.querySelector('.state')?.textContent };
      });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('article.card')?.dataset['state'] === 'closed');
    expect(await stateOf()).toEqual({ data: 'closed', text: 'closed' });
    const t0 = Date.now();
    await cb.execute(() => Promise.reject(new Error('down'))).catch(() => undefined);
    expect(cb.state).toBe('open');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('article.card')?.dataset['state'] === 'open', undefined, { timeout: 2000, polling: 20 });
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeLessThan(2000);
    expect(await stateOf()).toEqual({ data: 'open', text: 'open' });
    // Coloured, not only written: the badge's colours differ from the closed badge's.
    const colour = await page.evaluate(() => getComputedStyle(document.querySelector('article.card .state') as Element).backgroundColor);
    expect(colour).toBe('rgb(248, 81, 73)');
    expect(problems).toEqual([]);
    await page.close();
    await server.close();
    server = undefined;
  });

  it('shows a policy named like HTML as text, and runs none of it', async () => {
    const evil = '<img src=x onerror=window.__x=1>';
    const registry = createRegistry();
    circuitBreaker({ name: evil, registry });
    pipeline(timeout({ name: '<b>bold</b>', durationMs: 10 }), { name: '"><script>window.__x=2</script>', registry });
    server = await serveDashboard(registry, { intervalMs: 100 });
    const { page } = await newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelectorAll('article.card').length === 3);
    await page.waitForTimeout(300); // a few more updates
    const seen = await page.evaluate(() => ({
      names: Array.from(document.querySelectorAll('article.card h3')).map((h) => h.textContent),
      groups: Array.from(document.querySelectorAll('section.group h2')).map((h) => h.textContent),
      imgs: document.querySelectorAll('img').length,
      bold: document.querySelectorAll('main b').length,
      scripts: document.querySelectorAll('script').length,
      x: (window as { __x?: unknown }).__x,
    }));
    expect(seen.names).toEqual(expect.arrayContaining([evil, '<b>bold</b>', '"><script>window.__x=2</script>']));
    expect(seen.groups).toContain('"><script>window.__x=2</script>');
    expect(seen).toMatchObject({ imgs: 0, bold: 0, scripts: 1, x: undefined });
    await page.close();
    await server.close();
    server = undefined;
  });

  it('adds and removes cards as policies come and go, and filters by name', async () => {
    const registry = createRegistry();
    circuitBreaker({ name: 'stays', registry });
    server = await serveDashboard(registry, { intervalMs: 100 });
    const { page, problems } = await newPage();
    await page.goto(server.url);
    const names = () => page.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('article.card:not(.hidden)')).map((c) => c.dataset['name']));
    await page.waitForFunction(() => document.querySelectorAll('article.card').length === 1);
    const late = bulkhead({ name: 'late-comer', maxConcurrent: 1, registry });
    await page.waitForFunction(() => document.querySelectorAll('article.card').length === 2);
    expect(await names()).toEqual(['stays', 'late-comer']);
    await page.fill('#filter', 'LATE');
    expect(await names()).toEqual(['late-comer']);
    await page.fill('#filter', '');
    late.dispose(); // a disposed policy leaves the registry, and the page
    await page.waitForFunction(() => document.querySelectorAll('article.card').length === 1);
    expect(await names()).toEqual(['stays']);
    expect(problems).toEqual([]);
    await page.close();
    await server.close();
    server = undefined;
  });

  it('stays readable with 200 policies: a grid of cards, no sideways scrolling, long names cut with an ellipsis', async () => {
    const registry = createRegistry();
    for (let i = 0; i < 40; i++) {
      pipeline(
        fallback(null, { name: `service-${i}-fallback` }),
        retry({ name: `service-${i}-retry` }),
        circuitBreaker({ name: `service-${i}-breaker-with-a-rather-long-name-that-cannot-fit` }),
        timeout({ name: `service-${i}-timeout`, durationMs: 100 }),
        { name: `service-${i}`, registry },
      );
    }
    expect(registry.list()).toHaveLength(200);
    server = await serveDashboard(registry, { intervalMs: 200 });
    const { page, problems } = await newPage();
    await page.setViewportSize({ width: 1360, height: 900 });
    await page.goto(server.url);
    await page.waitForFunction(() => document.querySelectorAll('article.card').length === 200);
    const layout = await page.evaluate(() => {
      const cards = Array.from(document.querySelectorAll<HTMLElement>('article.card'));
      const tops = new Map<number, number>();
      for (const c of cards.slice(0, 5)) tops.set(Math.round(c.getBoundingClientRect().top), (tops.get(Math.round(c.getBoundingClientRect().top)) ?? 0) + 1);
      const name = cards[3]?.querySelector<HTMLElement>('.name');
      return {
        sideways: document.documentElement.scrollWidth > window.innerWidth,
        firstRow: Math.max(...tops.values()),
        widest: Math.max(...cards.map((c) => c.getBoundingClientRect().width)),
        cut: name !== null && name !== undefined && name.scrollWidth > name.clientWidth && getComputedStyle(name).textOverflow === 'ellipsis',
        groups: document.querySelectorAll('section.group').length,
      };
    });
    expect(layout.sideways).toBe(false);
    expect(layout.firstRow).toBe(5); // a pipeline's five cards side by side
    expect(layout.widest).toBeLessThan(400);
    expect(layout.cut).toBe(true);
    expect(layout.groups).toBe(40);
    await page.screenshot({ path: join(root, 'test-output', 'dashboard-200.png') });
    expect(problems).toEqual([]);
    await page.close();
    await server.close();
    server = undefined;
  });

  it('passes ?token= on to its assets and its stream', async () => {
    const registry = createRegistry();
    circuitBreaker({ name: 'cb', registry });
    server = await serveDashboard(registry, { token: 'tok-123', intervalMs: 200 });
    const other = await context.newPage();
    expect((await other.goto(server.url))?.status()).toBe(401);
    await other.close();
    const { page, problems } = await newPage();
    await page.goto(`${server.url}?token=tok-123`);
    await page.waitForFunction(() => document.querySelectorAll('article.card').length === 1);
    expect(await page.evaluate(() => document.getElementById('status')?.textContent)).toBe('live');
    expect(problems).toEqual([]);
    await page.close();
    await server.close();
    server = undefined;
  });

  it('after demo-like traffic: the inventory breaker opens on the page; a screenshot', async () => {
    const fleet = startFleet();
    server = await serveDashboard(fleet.registry, { intervalMs: 250 });
    const { page, problems } = await newPage();
    await page.setViewportSize({ width: 1360, height: 900 });
    await page.goto(server.url);
    await page.waitForFunction((n) => document.querySelectorAll('article.card').length === n, fleet.registry.list().length);
    // Six seconds of traffic: the inventory breaker opens, the sparklines fill.
    await page.waitForFunction(
      () => Array.from(document.querySelectorAll('article.card')).some((c) => (c as HTMLElement).dataset['name'] === 'inventory-breaker' && (c as HTMLElement).dataset['state'] === 'open'),
      undefined,
      { timeout: 10_000 },
    );
    // The committed screenshot waits longer, for fuller sparklines.
    await page.waitForTimeout(process.env['UPDATE_SCREENSHOT'] === '1' ? 8000 : 4500);
    const out = join(root, 'test-output');
    mkdirSync(out, { recursive: true });
    const file = join(out, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    if (process.env['UPDATE_SCREENSHOT'] === '1') copyFileSync(file, join(root, 'docs', 'dashboard.png'));
    expect(existsSync(file)).toBe(true);
    const stats = await page.evaluate(() => (window as unknown as { breakwaterDashboard: { stats: { updates: number; maxMs: number } } }).breakwaterDashboard.stats);
    expect(stats.updates).toBeGreaterThan(10);
    expect(problems).toEqual([]);
    await page.close();
    await server.close();
    server = undefined;
    await fleet.stop();
  }, 60_000);
});
