/**
 * The dashboard's pages against the API contract of docs/dashboard.md. The
 * page, its assets, the status and the event stream come from a real service
 * process; the routes other parts of the dashboard add (activity, settings,
 * conflicts, trash, crew, library, session) are answered in the browser by
 * a stand-in that follows the contract and records what the page sent. So
 * these tests say what the page asks and how it shows the answers (20,000
 * activity rows, an error next to the field it names, the CSRF header on
 * every state-changing call); the routes' own tests say what they do.
 */
// The functions handed to page.evaluate run in the page: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page, Route } from 'playwright-core';
import { settled, startService, type ServiceProcess } from '../support/service-process.js';
import { launchBrowser, serviceContext } from '../support/browser.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
const ROWS = 20_000;
const CSRF = 'csrf-token-of-the-session';
const KINDS = ['upload', 'download', 'copy-remote', 'trash-remote', 'restore'] as const;

interface Sent {
  method: string;
  path: string;
  query: URLSearchParams;
  csrf?: string;
  body?: any;
}

/** The activity history the stand-in serves: newest first, ids falling. */
const history = Array.from({ length: ROWS }, (_, i) => {
  const id = ROWS - i;
  return { id, at: 1_796_000_000_000 - i * 60_000, runId: `r${Math.floor(id / 50)}`, kind: KINDS[id % KINDS.length] as string, reason: id % 3 ? 'new' : 'tags-changed', path: `Artist ${id % 97}/Album ${id % 13}/${String(id).padStart(5, '0')} Track.mp3`, bytes: 1000 + id, ok: id % 101 !== 0, ...(id % 101 === 0 ? { error: 'access denied' } : {}) };
});

/** standIn answers the routes of the contract that this service does not have yet, recording each request. */
async function standIn(ctx: BrowserContext, sent: Sent[]): Promise<void> {
  let settings = { include: [] as string[], exclude: ['*.tmp'], transfers: 4, mode: 'push', pullInterval: '5m' };
  const json = (route: Route, body: unknown, status = 200) => route.fulfill({ status, contentType: 'application/json', body: JSON.stringify(body) });
  await ctx.route(/\/api\/(session|activity|throughput|library|trash|conflicts|settings|crew|retry)/, async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    const body = req.postData() ? JSON.parse(req.postData() as string) : undefined;
    const headers = await req.allHeaders();
    sent.push({ method: req.method(), path: url.pathname, query: url.searchParams, csrf: headers['x-csrf-token'], body });
    const q = url.searchParams;
    switch (`${req.method()} ${url.pathname}`) {
      case 'GET /api/session':
        return json(route, { csrf: CSRF });
      case 'GET /api/activity': {
        const text = (q.get('q') ?? '').toLowerCase();
        const kinds = q.get('kinds')?.split(',');
        const before = q.has('before') ? Number(q.get('before')) : Infinity;
        const limit = Math.min(Number(q.get('limit') ?? 100), 500);
        const match = history.filter((r) => (!text || r.path.toLowerCase().includes(text)) && (!kinds || kinds.includes(r.kind)));
        const rows = match.filter((r) => r.id < before).slice(0, limit);
        const last = rows[rows.length - 1];
        return json(route, { rows, total: match.length, ...(last && match.some((r) => r.id < last.id) ? { next: last.id } : {}) });
      }
      case 'GET /api/throughput':
        return json(route, { bucketMs: 60_000, points: Array.from({ length: 60 }, (_, i) => ({ at: 1_796_000_000_000 + i * 60_000, bytes: (i % 7) * 1_000_000, files: i % 7 })) });
      case 'GET /api/library':
        return json(route, { files: 1234, bytes: 9_876_543_210, formats: [{ ext: 'mp3', files: 1000, bytes: 8e9 }, { ext: 'flac', files: 234, bytes: 1.8e9 }], changes: { audio: 12, tagsOnly: 340 }, players: [], playlists: [{ name: 'Warm up', player: 'rekordbox', tracks: 31, where: 'published' }] });
      case 'GET /api/trash':
        return json(route, { remote: [{ stamp: '2026-11-29T10-00-00Z', items: [{ path: 'a/old.mp3', size: 1000 }], bytes: 1000 }], local: [] });
      case 'POST /api/trash/restore':
        return json(route, { restored: ['a/old.mp3'] });
      case 'GET /api/conflicts':
        return json(route, { conflicts: [{ path: 'b/both.mp3', copy: 'b/both (conflict alice).mp3', mine: { size: 5000, mtime: 1_796_000_000_000, tags: { title: 'Mine' }, writer: 'me' }, theirs: { size: 6000, mtime: 1_796_000_100_000, tags: { title: 'Theirs' }, writer: 'alice' } }] });
      case 'POST /api/conflicts/keep':
        return json(route, { kept: body.path, trashed: 'b/both (conflict alice).mp3' });
      case 'GET /api/settings':
        return json(route, settings);
      case 'PUT /api/settings':
        if (!(Number.isInteger(body.transfers) && body.transfers >= 1 && body.transfers <= 256)) return json(route, { error: 'settings: transfers: must be a whole number from 1 to 256' }, 400);
        settings = { ...settings, ...body };
        return json(route, settings);
      case 'GET /api/crew':
        return json(route, { users: [{ name: 'alice', machines: [{ id: 'm1', host: 'alice-laptop', lastSeen: 1_796_000_000_000 }], collections: [{ key: 'rekordbox', tracks: 900 }], playlists: [{ name: 'Peak time', tracks: 40, missing: 12 }], lacking: { files: 120, bytes: 1.2e9 } }] });
      case 'POST /api/crew/pull':
        return json(route, { runId: 'r-pull' });
      case 'POST /api/retry':
        return json(route, { retried: 0 });
      default:
        return json(route, { error: 'no such route' }, 404);
    }
  });
}

let browser: Browser;
let service: ServiceProcess;
let ctx: BrowserContext;
let page: Page;
const sent: Sent[] = [];
let base: string;
const errors: string[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  const home = await mkdtemp(join(tmpdir(), 'cs-dashp-home-'));
  const lib = join(home, 'Music');
  const remote = join(home, 'remote');
  await mkdir(lib, { recursive: true });
  await mkdir(remote);
  await writeFile(join(lib, 'one.mp3'), 'ID3-one');
  const config = join(home, 'config.json');
  await writeFile(config, JSON.stringify({ library: lib, remote, service: { quiet: '300ms' } }));
  service = await startService(home, config);
  await settled(service);
  base = `http://127.0.0.1:${service.port}`;
  ctx = await serviceContext(browser, service.token);
  await standIn(ctx, sent);
  page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
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

describe('the dashboard pages, on the API contract', () => {
  it('Activity: 20,000 rows page by page as the list scrolls, only the rows in view rendered; search is a server query', async () => {
    await page.goto(`${base}/#/activity`);
    await page.waitForSelector('#activity-count');
    expect(await page.textContent('#activity-count')).toBe('20,000 entries');
    expect(await rendered(page)).toBeLessThan(60);
    // Scroll to the end again and again: each time near the end, the next page comes by `before`.
    const scrolls: number[] = [];
    const height = () => page.evaluate(() => (document.querySelector('.vlist > div') as HTMLElement).offsetHeight);
    for (let i = 0; i < 5; i++) {
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
    const pages = sent.filter((s) => s.path === '/api/activity' && s.query.has('before'));
    expect(pages.length).toBeGreaterThanOrEqual(5);
    // Keyset paging: each `before` is the `next` of the page before it, falling.
    const befores = pages.map((s) => Number(s.query.get('before')));
    expect([...befores].sort((a, b) => b - a)).toEqual(befores);
    expect(await rendered(page)).toBeLessThan(60);
    const t0 = Date.now();
    await page.fill('input[type="search"]', 'artist 42/');
    await page.waitForFunction(() => document.getElementById('activity-count')?.textContent !== '20,000 entries');
    const searchMs = Date.now() - t0;
    const q = sent.filter((s) => s.path === '/api/activity' && s.query.get('q') === 'artist 42/');
    expect(q).toHaveLength(1); // one query for the whole typed text, not one per key
    const expected = history.filter((r) => r.path.toLowerCase().includes('artist 42/')).length;
    expect(await page.textContent('#activity-count')).toBe(`${expected.toLocaleString('en-US')} entries`);
    await page.check('input[type="checkbox"] >> nth=0');
    await page.waitForFunction((n) => document.getElementById('activity-count')?.textContent !== n, `${expected.toLocaleString('en-US')} entries`);
    expect(sent.some((s) => s.path === '/api/activity' && s.query.get('kinds') === 'upload' && s.query.get('q') === 'artist 42/')).toBe(true);
    console.log(`dashboard activity with ${ROWS.toLocaleString('en-US')} rows: ${await rendered(page)} rows in the DOM; scroll to the end and draw: ${scrolls.map((m) => m.toFixed(0)).join(', ')} ms; search typed to result shown (250 ms debounce included): ${searchMs} ms`);
    await page.screenshot({ path: join(ARTIFACTS, 'activity-with-rows-1280.png') });
  });

  it('Controls: a bad setting shows the service’s error next to its field; a good one is saved; Restore sends the batch; all with the CSRF token', async () => {
    await page.goto(`${base}/#/controls`);
    await page.waitForSelector('#set-transfers');
    await page.fill('#set-transfers', '0');
    await page.click('text=Save settings');
    await page.waitForSelector('#set-transfers-error');
    expect(await page.textContent('#set-transfers-error')).toMatch(/transfers: must be a whole number/);
    expect(await page.getAttribute('#set-transfers', 'aria-invalid')).toBe('true');
    expect(await page.getAttribute('#set-transfers', 'aria-describedby')).toBe('set-transfers-error');
    await page.fill('#set-transfers', '8');
    await page.fill('#set-include', '*.mp3\n*.flac');
    await page.click('text=Save settings');
    await page.waitForSelector('text=Saved; the service uses them now.');
    expect(await page.isVisible('#set-transfers-error')).toBe(false);
    const put = sent.filter((s) => s.method === 'PUT' && s.path === '/api/settings').at(-1);
    expect(put?.body).toEqual({ include: ['*.mp3', '*.flac'], exclude: ['*.tmp'], transfers: 8, mode: 'push', pullInterval: '5m' });
    await page.screenshot({ path: join(ARTIFACTS, 'controls-with-data-1280.png'), fullPage: true });
    await page.click('button[aria-label="Restore remote batch 2026-11-29T10-00-00Z"]');
    await page.waitForSelector('text=Restored 1 file(s)');
    expect(sent.find((s) => s.path === '/api/trash/restore')?.body).toEqual({ side: 'remote', stamp: '2026-11-29T10-00-00Z' });
    for (const s of sent.filter((x) => x.method !== 'GET')) expect(s.csrf, `${s.method} ${s.path}`).toBe(CSRF);
  });

  it('Problems: a conflict side by side; Keep theirs sends the path and the side', async () => {
    await page.goto(`${base}/#/problems`);
    await page.waitForSelector('.conflict');
    const sides = await page.$$eval('.conflict .side', (els) => els.map((e) => e.textContent ?? ''));
    expect(sides[0]).toMatch(/Mine.*b\/both\.mp3.*Written byme/);
    expect(sides[1]).toMatch(/Theirs.*conflict alice.*Written byalice/);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'problems-with-data-390.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('text=Keep theirs');
    await page.waitForSelector('text=went to the trash');
    const keep = sent.find((s) => s.path === '/api/conflicts/keep');
    expect(keep?.body).toEqual({ path: 'b/both.mp3', keep: 'theirs' });
    expect(keep?.csrf).toBe(CSRF);
  });

  it('Crew and Library: show what the routes answer; Pull asks for the user’s playlist', async () => {
    await page.goto(`${base}/#/crew`);
    await page.waitForSelector('text=alice-laptop');
    expect(await page.textContent('main')).toMatch(/Has 120 files \(1\.1 GB\) that you lack/);
    await page.click('button[aria-label="Pull Peak time from alice"]');
    await page.waitForSelector('text=Pulling Peak time from alice');
    expect(sent.find((s) => s.path === '/api/crew/pull')?.body).toEqual({ user: 'alice', playlist: 'Peak time' });
    await page.screenshot({ path: join(ARTIFACTS, 'crew-with-data-1280.png'), fullPage: true });
    await page.goto(`${base}/#/library`);
    await page.waitForSelector('text=Warm up');
    expect(await page.textContent('main')).toMatch(/1,234 files/);
    await page.screenshot({ path: join(ARTIFACTS, 'library-with-data-1280.png'), fullPage: true });
    await page.goto(`${base}/#/overview`);
    await page.waitForSelector('.chart svg rect', { state: 'attached' });
    expect(await page.$$eval('.chart svg rect', (r) => r.length)).toBe(60);
    await page.screenshot({ path: join(ARTIFACTS, 'overview-with-chart-1280.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
