/**
 * The dashboard in headless Chromium against the real service process and
 * s3rver: the overview shows the state, the progress of a push moves while
 * it runs (uploads held at a proxy and let go, so that the numbers are read
 * before and after without any timing), pause and resume from the page
 * change the service's state, every page draws with no script error or CSP
 * violation and a name on every control, the pages are keyboard-usable, and
 * the first load is measured (bytes transferred, time to interactive).
 * Screenshots of every page at desktop and phone widths go to
 * test-artifacts/dashboard/. The browser logs in as a person does: a
 * one-time link sets the session cookie (the token never reaches the
 * browser); the link works once, a browser without the cookie gets the
 * login page, and a state change without the CSRF header is refused.
 */
// The functions handed to page.evaluate run in the page: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { settled, startService, waitFor, type ServiceProcess } from '../support/service-process.js';
import { launchBrowser, loggedInContext, loginLink } from '../support/browser.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
const PAGES = ['overview', 'activity', 'problems', 'library', 'crew', 'controls'] as const;
const FILES = 40;
const BUDGET_BYTES = 300 * 1024;

let server: S3rver;
let proxy: FaultProxy;
let browser: Browser;
let service: ServiceProcess | undefined;
let base: string;

beforeAll(async () => {
  // Chromium first: without it this file fails here, saying what to install.
  browser = await launchBrowser();
  server = await startS3rver();
  proxy = await startFaultProxy(server.endpoint);
  await mkdir(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  if (service) {
    service.child.kill('SIGKILL');
    await service.exited;
  }
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
});

/** What the overview shows of the run under way, or undefined when it shows none. */
interface Progress {
  files: number;
  bytes: number;
  total: number;
  inFlight: number;
}

async function progress(page: Page): Promise<Progress | undefined> {
  return page.evaluate(() => {
    const bar = document.getElementById('run-bar');
    if (!bar) return undefined;
    return {
      files: Number(bar.dataset.files),
      bytes: Number(bar.dataset.bytes),
      total: Number((document.getElementById('files-total')?.textContent ?? '0').replace(/,/g, '')),
      inFlight: document.querySelectorAll('.transfers progress').length,
    };
  });
}

/** Controls (buttons, inputs, selects, text areas) of the page that have no accessible name. */
function unnamedControls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('button, input, select, textarea')]
      .filter((el) => {
        if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
        if ('labels' in el && (el as HTMLInputElement).labels && (el as HTMLInputElement).labels!.length > 0) return false;
        return el.tagName !== 'BUTTON' || !el.textContent?.trim();
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
}

/** Collects uncaught page errors and CSP violations reported to the console. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return errors;
}

describe('the dashboard in Chromium', () => {
  let ctx: BrowserContext;
  let page: Page;
  let errors: string[];
  let link: string;

  beforeAll(async () => {
    await server.createBucket('dash');
    const home = await mkdtemp(join(tmpdir(), 'cs-dash-home-'));
    const lib = join(await mkdtemp(join(tmpdir(), 'cs-dash-lib-')), 'Music');
    for (let i = 0; i < FILES; i++) {
      const dir = join(lib, `Artist ${i % 4}`, `Album ${i % 8}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, `${String(i).padStart(2, '0')} Track.mp3`), Buffer.concat([Buffer.from(`ID3-dash-${i}-`), randomBytes(256 * 1024)]));
    }
    const config = join(home, 'config.json');
    await writeFile(config, JSON.stringify({ library: lib, remote: 's3://dash/dj', transfers: 4, service: { quiet: '300ms' } }));
    // Every upload of the first push waits at the proxy until the test lets it go.
    proxy.rules.push({ method: 'PUT', pathIncludes: '/dash/dj/music/', action: 'hold', times: 1e9 });
    service = await startService(home, config, { ...CREDS, AWS_ENDPOINT_URL: proxy.endpoint });
    base = `http://127.0.0.1:${service.port}`;
    ({ context: ctx, page, link } = await loggedInContext(browser, service.port, service.token));
    errors = watchErrors(page);
  }, 120_000);
  afterAll(async () => {
    await ctx?.close();
  });

  it('shows the service state, and the progress of a push moving as it runs', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#state');
    expect(['idle', 'scanning', 'syncing']).toContain(await page.textContent('#state'));
    // The push is planned and its first uploads are held: the page shows the run, its total and transfers in flight.
    const first = (await waitFor('the run on the page', async () => {
      const p = await progress(page);
      return p && p.total === FILES && p.inFlight > 0 ? p : undefined;
    })) as Progress;
    expect(await page.textContent('#state')).toBe('syncing');
    expect(first.files).toBeLessThan(FILES);
    // Let uploads go until the page shows more done, by the event stream alone (the page does not poll).
    const second = (await waitFor('progress on the page', async () => {
      proxy.release();
      const p = await progress(page);
      return p && p.files > first.files && p.bytes > first.bytes ? p : undefined;
    })) as Progress;
    expect(second.files).toBeGreaterThan(first.files);
    expect(second.bytes).toBeGreaterThan(first.bytes);
    expect(Number((await page.textContent('#files-done'))?.replace(/,/g, ''))).toBeGreaterThanOrEqual(second.files);
    await page.screenshot({ path: join(ARTIFACTS, 'overview-during-push-1280.png'), fullPage: true });
  }, 120_000);

  it('pauses and resumes the service from the Controls page', async () => {
    const s = service as ServiceProcess;
    await page.click('nav >> text=Controls');
    await page.waitForSelector('#pause');
    await page.click('#pause');
    await waitFor('the service paused', async () => (await s.status()).state === 'paused');
    await page.waitForSelector('#controls-state:text-is("paused")');
    // Let the held uploads go; nothing new starts while paused.
    proxy.rules.length = 0;
    proxy.release();
    await page.click('#resume');
    await waitFor('the service resumed', async () => (await s.status()).state !== 'paused');
    await settled(s, 60_000).catch(async (e) => {
      throw new Error(`${e}: ${JSON.stringify(await s.status())}\n${s.logs.map((l) => JSON.stringify(l).slice(0, 300)).join('\n')}`);
    });
    await page.waitForSelector('#controls-state:text-is("idle")');
    expect(await page.isVisible('#pause')).toBe(true);
  }, 120_000);

  it('draws every page, at desktop and phone widths, with no script error and a name on every control', async () => {
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const name of PAGES) {
        await page.goto(`${base}/#/${name}`);
        await page.waitForSelector('main');
        await page.waitForFunction(() => !document.querySelector('main [role="status"]')?.textContent?.startsWith('Loading'));
        expect(await page.getAttribute(`nav a[href="#/${name}"]`, 'aria-current'), name).toBe('page');
        expect(await unnamedControls(page), name).toEqual([]);
        // Nothing wider than the screen at phone width.
        if (width < 500) expect(await page.evaluate(() => document.documentElement.scrollWidth), name).toBeLessThanOrEqual(width);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
      }
    }
    const { context: dark, page: dp } = await loggedInContext(browser, (service as ServiceProcess).port, (service as ServiceProcess).token, { colorScheme: 'dark' });
    await dp.waitForSelector('#state');
    await dp.screenshot({ path: join(ARTIFACTS, 'overview-dark-1280.png'), fullPage: true });
    await dark.close();
    expect(errors).toEqual([]);
  }, 120_000);

  it('is usable from the keyboard: the navigation takes Tab and Enter, and focus lands on the page', async () => {
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(`${base}/#/overview`);
    await page.waitForSelector('#state');
    let focused = '';
    for (let i = 0; i < 12 && focused !== 'Controls'; i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? '');
    }
    expect(focused).toBe('Controls');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#pause');
    expect(await page.evaluate(() => location.hash)).toBe('#/controls');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
  });

  it('follows a hash route changed while the page loads, before its listener is added', async () => {
    const p = await ctx.newPage();
    // At DOMContentLoaded the page's module has drawn its first route and not yet run its effects.
    await p.addInitScript(() => document.addEventListener('DOMContentLoaded', () => (location.hash = '#/problems')));
    await p.goto(`${base}/`);
    await p.waitForSelector('#h-failing');
    expect(await p.getAttribute('nav a[href="#/problems"]', 'aria-current')).toBe('page');
    await p.close();
  });

  it('loads in a fresh browser within budget: bytes transferred (gzip) and time to interactive, printed', async () => {
    // Logged in by a one-time link, as `cratesync dashboard` opens it: the link's 303 lands on the page measured.
    const fresh = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await fresh.newPage();
    const errs = watchErrors(p);
    await p.goto(await loginLink((service as ServiceProcess).port, (service as ServiceProcess).token));
    expect(new URL(p.url()).pathname).toBe('/');
    await p.waitForFunction(() => performance.getEntriesByName('dashboard-interactive').length > 0);
    const m = await p.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const page = [nav, ...res.filter((r) => new URL(r.name).pathname.startsWith('/assets/'))];
      return {
        pageBytes: page.reduce((a, r) => a + r.transferSize, 0),
        apiBytes: res.filter((r) => new URL(r.name).pathname.startsWith('/api/')).reduce((a, r) => a + r.transferSize, 0),
        decodedBytes: page.reduce((a, r) => a + r.decodedBodySize, 0),
        encodings: page.map((r) => r.encodedBodySize < r.decodedBodySize),
        domContentLoadedMs: nav.domContentLoadedEventEnd,
        interactiveMs: performance.getEntriesByName('dashboard-interactive')[0]?.startTime ?? -1,
      };
    });
    console.log(
      `dashboard first load: ${(m.pageBytes / 1024).toFixed(1)} KB transferred for the page and its assets ` +
        `(${(m.decodedBytes / 1024).toFixed(1)} KB unpacked) + ${(m.apiBytes / 1024).toFixed(1)} KB of API answers; ` +
        `DOMContentLoaded ${m.domContentLoadedMs.toFixed(0)} ms, interactive (status drawn) ${m.interactiveMs.toFixed(0)} ms`,
    );
    expect(m.pageBytes).toBeGreaterThan(0);
    expect(m.pageBytes + m.apiBytes).toBeLessThan(BUDGET_BYTES);
    // Sent compressed: every file of the page is smaller on the wire than unpacked.
    expect(m.encodings.every(Boolean)).toBe(true);
    expect(m.interactiveMs).toBeGreaterThan(0);
    expect(errs).toEqual([]);
    await fresh.close();
  });

  it('logs in once per link: the link opened again elsewhere is refused (403) with the page that says what to do', async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    const errs = watchErrors(p);
    const answer = await p.goto(link);
    expect(answer?.status()).toBe(403);
    expect(new URL(p.url()).pathname).toMatch(/^\/login\//);
    expect(await p.textContent('h1')).toBe('This login link no longer works');
    expect(await p.textContent('body')).toContain('cratesync dashboard');
    // No session came of it: the dashboard itself is closed to this browser.
    expect((await p.goto(`${base}/`))?.status()).toBe(401);
    expect(await other.cookies()).toEqual([]);
    expect(errs).toEqual([]);
    await other.close();
  });

  it('shows a browser without the session cookie the login-needed page at /, and its API calls are refused', async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    const errs = watchErrors(p);
    const answer = await p.goto(`${base}/`);
    expect(answer?.status()).toBe(401);
    expect(await p.textContent('h1')).toBe('Not logged in');
    expect(await p.textContent('body')).toContain('cratesync dashboard');
    expect(await p.$('#state')).toBeNull();
    expect(await p.evaluate(async () => (await fetch('/api/status')).status)).toBe(401);
    expect(errs).toEqual([]);
    await other.close();
  });

  it('refuses a state change the logged-in page sends without the CSRF header (403), and the service is not paused', async () => {
    const s = service as ServiceProcess;
    await page.goto(`${base}/#/controls`);
    await page.waitForSelector('#pause');
    expect((await s.status()).state).not.toBe('paused');
    // The page's own origin and the session cookie, as a script injected into it would have; only the header lacks.
    const answers = await page.evaluate(async () => {
      const send = async (headers: Record<string, string>) => {
        const r = await fetch('/api/pause', { method: 'POST', credentials: 'same-origin', headers });
        return { status: r.status, body: await r.text() };
      };
      return [await send({}), await send({ 'x-csrf-token': 'not-the-token' })];
    });
    for (const a of answers) {
      expect(a.status).toBe(403);
      expect(JSON.parse(a.body)).toEqual({ error: expect.any(String) });
    }
    expect((await s.status()).state).not.toBe('paused');
    // The same session with its token (GET /api/session) is let through: it was the header, not the session, that was missing.
    const ok = await page.evaluate(async () => {
      const { csrf } = (await (await fetch('/api/session')).json()) as { csrf: string };
      const r = await fetch('/api/rescan', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrf } });
      return r.status;
    });
    expect(ok).toBe(200);
    expect((await s.status()).state).not.toBe('paused');
  });
});
