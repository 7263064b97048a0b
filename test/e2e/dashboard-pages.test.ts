/**
 * The dashboard's pages with a lot of real data: a real service process whose
 * state database holds 20,000 rows of activity history (written through
 * state/activity-log.ts before the service starts, as its own recorder writes
 * them), the browser logged in through a one-time link (the session cookie).
 * The Activity page pages through the real `GET /api/activity` by keyset as
 * the list scrolls, renders only the rows in view, and searches on the
 * server; the Library page and the overview's chart draw what the real routes
 * answer. The times are printed, not asserted.
 *
 * The flows that change things are tested on the real routes elsewhere:
 * failing files, retry and conflicts in dashboard-problems.test.ts; trash,
 * settings and crew in dashboard-controls-ui.test.ts; login, CSRF, pause and
 * resume in dashboard-ui.test.ts.
 */
// The functions handed to page.evaluate run in the page: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { settled, startService, type ServiceProcess } from '../support/service-process.js';
import { launchBrowser, loggedInContext } from '../support/browser.js';
import { stateDbFile } from '../../src/config/paths.js';
import { openStateDb } from '../../src/state/state-db.js';
import { ActivityLog, type ActivityPage, type NewActivity } from '../../src/state/activity-log.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
const ROWS = 20_000;
const KINDS = ['upload', 'download', 'copy-remote', 'trash-remote', 'restore'] as const;
const SEARCH = 'artist 42/';
/** Rows the page asks for at a time (dashboard/src/pages/activity.tsx). */
const PAGE_ROWS = 200;

/** The seeded history, oldest first (ids grow with time, as the recorder writes them). */
const history: NewActivity[] = Array.from({ length: ROWS }, (_, i) => {
  const n = i + 1;
  const failed = n % 101 === 0;
  return {
    at: Date.now() - (ROWS - i) * 60_000,
    runId: `seeded-${Math.floor(n / 50)}`,
    kind: KINDS[n % KINDS.length]!,
    reason: n % 3 ? 'new' : 'tags-changed',
    path: `Artist ${n % 97}/Album ${n % 13}/${String(n).padStart(5, '0')} Track.mp3`,
    ...(KINDS[n % KINDS.length] === 'copy-remote' ? { from: `Old/${n}.mp3` } : {}),
    bytes: failed ? 0 : 1000 + n,
    ok: !failed,
    ...(failed ? { error: 'access denied' } : {}),
  };
});

let browser: Browser;
let service: ServiceProcess;
let ctx: BrowserContext;
let page: Page;
let base: string;
const errors: string[] = [];
/** The activity queries the page sent, in order. */
const queries: URLSearchParams[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  const home = await mkdtemp(join(tmpdir(), 'cs-dashp-home-'));
  const lib = join(home, 'Music');
  const remote = join(home, 'remote');
  await mkdir(lib, { recursive: true });
  await mkdir(remote);
  await writeFile(join(lib, 'one.mp3'), 'ID3-one');
  await writeFile(join(lib, 'two.flac'), 'fLaC-two');
  const config = join(home, 'config.json');
  await writeFile(config, JSON.stringify({ library: lib, remote, service: { quiet: '300ms' } }));
  // The history, in the database the service of this config will open (its library's state database).
  const db = openStateDb(stateDbFile({ configFile: config, dataDir: join(home, 'data'), stateDir: join(home, 'state') }, lib));
  const log = new ActivityLog(db);
  log.add(...history);
  log.flush();
  db.close();
  service = await startService(home, config);
  await settled(service);
  base = `http://127.0.0.1:${service.port}`;
  ({ context: ctx, page } = await loggedInContext(browser, service.port, service.token));
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/api/activity') queries.push(url.searchParams);
  });
  await mkdir(ARTIFACTS, { recursive: true });
}, 120_000);
afterAll(async () => {
  await ctx?.close();
  await browser?.close();
  if (service) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
});

const rendered = (p: Page) => p.evaluate(() => document.querySelectorAll('.vrow').length);
const countText = (n: number) => `${n.toLocaleString('en-US')} entries`;

describe('the dashboard pages on a service with a long history', () => {
  it('Activity: 20,000 real rows page by page as the list scrolls, only the rows in view rendered; search is a server query', async () => {
    // The service's own first run added its rows to the seeded ones.
    const all = (await (await service.api('/api/activity?limit=1')).json()) as ActivityPage;
    expect(all.total).toBe(ROWS + 2);
    await page.goto(`${base}/#/activity`);
    await page.waitForSelector('#activity-count');
    expect(await page.textContent('#activity-count')).toBe(countText(all.total));
    expect(await rendered(page)).toBeLessThan(60);

    // Scroll to the end again and again: each time near the end, the next page comes by `before`.
    const scrolls: number[] = [];
    const height = () => page.evaluate(() => (document.querySelector('.vlist > div') as HTMLElement).offsetHeight);
    const SCROLLS = 5;
    for (let i = 0; i < SCROLLS; i++) {
      const before = await height();
      scrolls.push(
        await page.evaluate(
          () =>
            new Promise<number>((resolve) => {
              const list = document.querySelector('.vlist') as HTMLElement;
              const t0 = performance.now();
              list.scrollTop = list.scrollHeight;
              requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
            }),
        ),
      );
      await page.waitForFunction((h) => (document.querySelector('.vlist > div') as HTMLElement).offsetHeight > h, before);
    }
    const pages = queries.filter((q) => q.has('before'));
    expect(pages.length).toBeGreaterThanOrEqual(SCROLLS);
    // Keyset paging: each `before` is the `next` of the page before it, falling.
    const befores = pages.map((q) => Number(q.get('before')));
    expect([...befores].sort((a, b) => b - a)).toEqual(befores);
    expect(new Set(befores).size).toBe(befores.length);
    expect(await rendered(page)).toBeLessThan(60);
    // The rows drawn at the end of what is loaded are the history's, in order: newest first, none lost or repeated.
    const loaded = await page.evaluate(() => (document.querySelector('.vlist > div') as HTMLElement).offsetHeight / 44);
    expect(loaded).toBe(PAGE_ROWS * (pages.length + 1));
    const drawn = await page.$$eval('.vrow', (els) => els.map((e) => ({ index: Math.round(parseFloat((e as HTMLElement).style.top) / 44), title: e.querySelector('.path')?.getAttribute('title') ?? '' })));
    const newestFirst = [...history].reverse();
    expect(drawn.length).toBeGreaterThan(0);
    expect(Math.max(...drawn.map((d) => d.index))).toBeGreaterThan(PAGE_ROWS * pages.length);
    for (const d of drawn) {
      // The service's own 2 rows come first, then the seeded history.
      const want = newestFirst[d.index - 2]!;
      expect(d.title, `row ${d.index}`).toBe(want.from ? `${want.from} → ${want.path}` : want.path);
    }

    const t0 = Date.now();
    await page.fill('input[type="search"]', SEARCH);
    await page.waitForFunction((n) => document.getElementById('activity-count')?.textContent !== n, countText(all.total));
    const searchMs = Date.now() - t0;
    expect(queries.filter((q) => q.get('q') === SEARCH)).toHaveLength(1); // one query for the whole typed text, not one per key
    const expected = history.filter((r) => r.path.toLowerCase().includes(SEARCH)).length;
    expect(expected).toBeGreaterThan(0);
    expect(await page.textContent('#activity-count')).toBe(countText(expected));
    const shown = await page.$$eval('.vrow .path', (els) => els.map((e) => e.textContent ?? ''));
    expect(shown.length).toBeGreaterThan(0);
    for (const p of shown) expect(p.toLowerCase()).toContain(SEARCH);

    // A kind narrows the same search, on the server too.
    await page.check('input[type="checkbox"] >> nth=0');
    await page.waitForFunction((n) => document.getElementById('activity-count')?.textContent !== n, countText(expected));
    expect(queries.some((q) => q.get('kinds') === 'upload' && q.get('q') === SEARCH)).toBe(true);
    expect(await page.textContent('#activity-count')).toBe(countText(history.filter((r) => r.kind === 'upload' && r.path.toLowerCase().includes(SEARCH)).length));

    const api = await page.evaluate(() =>
      (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter((r) => new URL(r.name).pathname === '/api/activity').map((r) => r.duration),
    );
    console.log(
      `dashboard activity with ${ROWS.toLocaleString('en-US')} real rows: ${await rendered(page)} rows in the DOM; ` +
        `scroll to the end and draw: ${scrolls.map((m) => m.toFixed(0)).join(', ')} ms; ` +
        `GET /api/activity as the page saw it (${api.length} requests): ${api.map((m) => m.toFixed(0)).join(', ')} ms; ` +
        `search typed to result shown (250 ms debounce included): ${searchMs} ms`,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'activity-with-rows-1280.png') });
    expect(errors).toEqual([]);
  });

  it('Library and the overview chart: draw what the real routes answer', async () => {
    const library = (await (await service.api('/api/library')).json()) as { files: number; formats: Array<{ ext: string }> };
    expect(library.files).toBe(2);
    await page.goto(`${base}/#/library`);
    await page.waitForSelector('text=2 files');
    const text = (await page.textContent('main')) ?? '';
    for (const f of library.formats) expect(text).toContain(f.ext);
    await page.screenshot({ path: join(ARTIFACTS, 'library-with-data-1280.png'), fullPage: true });
    await page.goto(`${base}/#/overview`);
    await page.waitForSelector('.chart svg rect', { state: 'attached' });
    const chart = (await (await service.api('/api/throughput')).json()) as { points: unknown[] };
    expect(await page.$$eval('.chart svg rect', (r) => r.length)).toBe(chart.points.length);
    await page.screenshot({ path: join(ARTIFACTS, 'overview-with-chart-1280.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
