/**
 * The Problems page in headless Chromium on the real routes: the real
 * `cratesync service run` process against s3rver (through the fault proxy),
 * the browser logged in through a one-time link (the session cookie; the
 * page sends the CSRF header itself). A file the bucket keeps refusing shows
 * with its reason; fixed, its Retry button sends it and it leaves the list.
 * A real conflict of two machines shows both versions side by side; Keep
 * theirs and Keep mine settle it in the library, the version not kept going
 * to the library trash. Screenshots go to test-artifacts/dashboard/.
 */
// The functions handed to page.evaluate run in the page: they need the DOM's types.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { listObjects, s3Client } from '../support/s3-objects.js';
import { settled, startService, waitFor, type ServiceProcess } from '../support/service-process.js';
import { cliJson } from '../support/cli.js';
import { launchBrowser, loggedInContext } from '../support/browser.js';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3, retagMp3 } from '../fixtures/mp3.js';
import { localTrashPath } from '../../src/sync/trash.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-dashprob-${name}-`));
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let server: S3rver;
let proxy: FaultProxy;
let s3: S3Client;
let browser: Browser;
const running: ServiceProcess[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startS3rver();
  proxy = await startFaultProxy(server.endpoint);
  s3 = s3Client(server.endpoint);
  await mkdir(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  s3?.destroy();
  await proxy?.stop();
  await server?.stop();
});
afterEach(async () => {
  proxy.rules.length = 0;
  for (const c of contexts.splice(0)) await c.close();
  for (const s of running.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
});

async function music(bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [k, etag] of await listObjects(s3, bucket, 'dj/music/')) out.set(k.slice('dj/music/'.length), etag);
  return out;
}

/** A browser page logged in to `s` by a one-time link, collecting script errors and CSP violations. */
async function open(s: ServiceProcess): Promise<{ page: Page; errors: string[] }> {
  const { context, page } = await loggedInContext(browser, s.port, s.token);
  contexts.push(context);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return { page, errors };
}

describe('the Problems page on the real service', () => {
  it('shows a file the bucket refuses with its reason; fixed, its Retry button sends it and it leaves the list', async () => {
    const bucket = 'dashprob1';
    await server.createBucket(bucket);
    const home = await tmp('home');
    const lib = join(await tmp('lib'), 'Music');
    const paths = await makeLibrary(lib, { albums: 1, tracksPerAlbum: 2, flacShare: 0 });
    const config = join(home, 'config.json');
    await writeFile(config, JSON.stringify({ library: lib, remote: `s3://${bucket}/dj`, service: { quiet: '300ms' } }));
    // Every PUT of this one key answers 503 SlowDown until the test removes the rule.
    const victim = 'Failing/Retry Me.mp3';
    proxy.rules.push({ method: 'PUT', pathIncludes: `music/${victim}`, action: 'status-503', times: 1e6 });
    await mkdir(dirname(join(lib, victim)), { recursive: true });
    const bytes = makeMp3({ title: 'Retry Me', seed: 'victim' });
    await writeFile(join(lib, victim), bytes);
    const s = await startService(home, config, { ...CREDS, AWS_ENDPOINT_URL: proxy.endpoint });
    running.push(s);
    const { page, errors } = await open(s);

    await page.goto(`http://127.0.0.1:${s.port}/#/problems`);
    const retry = `button[aria-label="Retry ${victim}"]`;
    await page.waitForSelector(retry);
    const row = await page.$$eval('.card table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(row).toHaveLength(1);
    expect(row[0]![0]).toBe(victim);
    expect(row[0]![1]).toMatch(/SlowDown|reduce your request rate/i);
    expect(Number(row[0]![2])).toBeGreaterThanOrEqual(1);
    // The other files went; this one did not.
    const before = await music(bucket);
    for (const p of paths) expect(before.has(p), p).toBe(true);
    expect(before.has(victim)).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'problems-failing-1280.png'), fullPage: true });

    // So that the Retry button, not the service's own backoff, is what sends it: press it while the next try is well ahead.
    await waitFor('the next automatic try a while off', async () => {
      const f = ((await s.status()).queue.failures as Array<{ path: string; retryAt: number }>).find((x) => x.path === victim);
      return f && f.retryAt - Date.now() > 2500;
    });
    proxy.rules.length = 0;
    await page.click(retry);
    await page.waitForSelector('p.ok:text("Retrying 1 file(s).")');
    await waitFor('the retried file in the bucket', async () => (await music(bucket)).get(victim) === md5(bytes));
    await page.waitForSelector('text=No file is failing.');
    expect(await page.$(retry)).toBeNull();
    await settled(s);
    expect((await s.status()).queue.failures).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'problems-retried-1280.png'), fullPage: true });
    expect(errors).toEqual([]);
  });

  it('shows a real conflict of two machines side by side; Keep theirs and Keep mine settle it, the other version in the library trash', async () => {
    const bucket = 'dashprob2';
    await server.createBucket(bucket);
    const machine = async (mode: 'push' | 'sync') => {
      const home = await tmp('home');
      const lib = join(await tmp('lib'), 'Music');
      await mkdir(lib, { recursive: true });
      const config = join(home, 'config.json');
      await writeFile(config, `${JSON.stringify({ library: lib, remote: `s3://${bucket}/dj`, user: 'dj', service: { quiet: '300ms', mode } }, null, 2)}\n`);
      return { home, lib, config, env: { home, env: { ...CREDS, AWS_ENDPOINT_URL: server.endpoint } } };
    };
    const a = await machine('push');
    const b = await machine('sync');
    const mp3s = (await makeLibrary(a.lib, { albums: 2, tracksPerAlbum: 2, flacShare: 0, seed: 'problems' })).filter((p) => p.endsWith('.mp3'));
    const sync = async (m: typeof a) => {
      const r = await cliJson(m.env, '--config', m.config, 'sync');
      expect(r.code, r.stderr).toBe(0);
    };
    await sync(a);
    await sync(b);
    const [p1, p2] = [mp3s[0]!, mp3s[1]!];
    const edit = async (m: typeof a, p: string, title: string) => {
      const next = retagMp3(await readFile(join(m.lib, p)), { title, artist: 'Crew' });
      await writeFile(join(m.lib, p), next);
      return next;
    };
    const a1 = await edit(a, p1, 'A one');
    await edit(a, p2, 'A two');
    const b1 = await edit(b, p1, 'B one');
    const b2 = await edit(b, p2, 'B two');
    await sync(a);

    // B's service meets both edits: two conflicts, A's versions kept beside B's as conflict copies.
    const s = await startService(b.home, b.config, b.env.env);
    running.push(s);
    await settled(s);
    const { conflicts } = (await (await s.api('/api/conflicts')).json()) as { conflicts: Array<{ path: string; copy: string }> };
    expect(conflicts.map((c) => c.path)).toEqual([p1, p2].sort());
    const copy1 = conflicts.find((c) => c.path === p1)!.copy;
    const copy2 = conflicts.find((c) => c.path === p2)!.copy;
    const { page, errors } = await open(s);

    await page.goto(`http://127.0.0.1:${s.port}/#/problems`);
    const card1 = `article.conflict[aria-label="Conflict: ${p1}"]`;
    await page.waitForSelector(card1).catch(async (e) => {
      throw new Error(`${e}\nthe page shows: ${await page.textContent('main')}\nthe service lists: ${await (await s.api('/api/conflicts')).text()}`);
    });
    expect(await page.$$eval('article.conflict', (els) => els.length)).toBe(2);
    // Side by side: Mine is the library file with B's tags, Theirs the copy with A's.
    const sides = await page.$$eval(`${card1} .side`, (els) =>
      els.map((e) => ({ title: e.querySelector('h4')?.textContent, facts: Object.fromEntries([...e.querySelectorAll('dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])) })),
    );
    expect(sides).toHaveLength(2);
    expect(sides[0]).toMatchObject({ title: 'Mine', facts: { File: p1, title: 'B one', artist: 'Crew', 'Written by': expect.stringMatching(/^dj@/) } });
    expect(sides[1]).toMatchObject({ title: 'Theirs', facts: { File: copy1, title: 'A one', artist: 'Crew', 'Written by': 'dj' } });
    const boxes = await page.$$eval(`${card1} .side`, (els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ top: r.top, left: r.left })));
    expect(boxes[0]!.top).toBe(boxes[1]!.top);
    expect(boxes[1]!.left).toBeGreaterThan(boxes[0]!.left);
    await page.screenshot({ path: join(ARTIFACTS, 'problems-conflicts-1280.png'), fullPage: true });

    // Keep theirs for p1: A's version becomes the file, B's goes to the library trash.
    await page.click(`button[aria-label="Keep theirs: ${p1}"]`);
    const note1 = await (await page.waitForSelector('p.ok:has-text("went to the library trash")')).textContent();
    const stamp1 = /batch (\S+) \(/.exec(note1 ?? '')?.[1] as string;
    expect(note1).toContain(`Kept their version of ${p1}; the other (${p1})`);
    await page.waitForSelector(card1, { state: 'detached' });
    expect(await readFile(join(b.lib, p1))).toEqual(a1);
    expect(existsSync(join(b.lib, copy1))).toBe(false);
    expect(await readFile(localTrashPath(b.lib, stamp1, p1))).toEqual(b1);

    // Keep mine for p2: B's version stays, A's copy goes to the trash.
    await page.click(`button[aria-label="Keep mine: ${p2}"]`);
    const note2 = await (await page.waitForSelector(`p.ok:has-text("Kept your version of ${p2}")`)).textContent();
    const stamp2 = /batch (\S+) \(/.exec(note2 ?? '')?.[1] as string;
    await page.waitForSelector('text=No conflicts.');
    expect(await readFile(join(b.lib, p2))).toEqual(b2);
    expect(existsSync(join(b.lib, copy2))).toBe(false);
    expect(existsSync(localTrashPath(b.lib, stamp2, copy2))).toBe(true);

    // The trash the page named is the one the service lists (Controls restores from it), and the kept versions reach the bucket.
    const trash = (await (await s.api('/api/trash')).json()) as { local: Array<{ stamp: string; items: Array<{ path: string }> }> };
    expect(trash.local.flatMap((x) => x.items.map((i) => `${x.stamp} ${i.path}`)).sort()).toEqual([`${stamp1} ${p1}`, `${stamp2} ${copy2}`].sort());
    await waitFor('the kept versions in the bucket', async () => {
      const now = await music(bucket);
      return now.get(p1) === md5(a1) && now.get(p2) === md5(b2);
    });
    await page.screenshot({ path: join(ARTIFACTS, 'problems-settled-1280.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
