/**
 * Headless Chromium for the dashboard's tests: Debian's `chromium` package
 * (installed by .ci/run) driven by playwright-core, which downloads no
 * browser of its own. A missing Chromium FAILS the tests that need it, naming
 * what to install: a dashboard never tested in a browser must not pass as if
 * it had been (set CRATESYNC_CHROMIUM to use another binary).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

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
 * serviceContext is a browser context logged in to a service by its token:
 * every request of its pages carries `Authorization: Bearer <token>` (the
 * guard takes it as it takes the session cookie).
 */
export function serviceContext(browser: Browser, token: string, viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  return browser.newContext({ viewport, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
}
