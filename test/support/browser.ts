/**
 * Headless Chromium for the dashboard's tests: Debian's `chromium` package
 * (installed by .ci/run) driven by playwright-core, which downloads no
 * browser of its own. A missing Chromium FAILS the tests that need it, naming
 * what to install: a dashboard never tested in a browser must not pass as if
 * it had been (set CRATESYNC_CHROMIUM to use another binary).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/lib/chromium/chromium'];

/** chromiumPath: CRATESYNC_CHROMIUM, else the first Debian path that exists; throws saying how to install it. */
export function chromiumPath(): string {
  const env = process.env.CRATESYNC_CHROMIUM;
  if (env) {
    if (!existsSync(env)) throw new Error(`CRATESYNC_CHROMIUM=${env}: no such file`);
    return env;
  }
  const found = CANDIDATES.find((p) => existsSync(p));
  if (!found) {
    throw new Error(`Chromium is needed for the dashboard's browser tests and was not found (${CANDIDATES.join(', ')}): install Debian's package (sudo apt-get install chromium, as .ci/run does) or set CRATESYNC_CHROMIUM`);
  }
  return found;
}

/** launchBrowser starts headless Chromium. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    // No first-run work, no background networking: the tests talk to 127.0.0.1 only.
    args: ['--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

/**
 * loginLink asks the service at `port` for a one-time login link with its
 * token, as `cratesync dashboard` does.
 */
export async function loginLink(port: number, token: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/api/dashboard/link`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  if (r.status !== 200) throw new Error(`POST /api/dashboard/link: ${r.status} ${await r.text()}`);
  return ((await r.json()) as { url: string }).url;
}

/**
 * loggedInContext is a browser context logged in the way a person is: a
 * one-time link opened in it sets the session cookie, and its page lands on
 * the dashboard. Nothing else carries a credential. Resolves with the link
 * too (a test may show it is refused a second time).
 */
export async function loggedInContext(browser: Browser, port: number, token: string, o: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {}): Promise<{ context: BrowserContext; page: Page; link: string }> {
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 800 }, ...(o.colorScheme ? { colorScheme: o.colorScheme } : {}) });
  const link = await loginLink(port, token);
  const page = await context.newPage();
  const answer = await page.goto(link);
  if (!answer || answer.status() !== 200 || new URL(page.url()).pathname !== '/') {
    throw new Error(`logging in with the one-time link did not land on the dashboard: ${answer?.status() ?? 'no answer'} at ${page.url()}`);
  }
  return { context, page, link };
}

