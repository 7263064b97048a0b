/**
 * The dashboard's Controls and Crew pages in headless Chromium, on the real
 * routes of the real `cratesync service run` process against s3rver, logged
 * in as a person is (a one-time link sets the session cookie; the token never
 * reaches the browser), driven by clicks and typing:
 * - a remote trash batch a deletion filled is restored with its Restore
 *   button: the object is back in the bucket, a Rescan brings it back into
 *   the library, and the Activity page shows the `restore` row;
 * - a bad setting shows the service's error next to its field and leaves the
 *   config file alone; an exclude pattern saved from the form is used by the
 *   service at once (a new file under it stays home, another goes);
 * - the Crew page shows a second user, their machine, last seen, a playlist
 *   with what this library lacks and the bucket's refused objects; Pull
 *   fetches the tracks and writes the playlist;
 * - Pause, Resume and Rescan work with the cookie session: the page sends the
 *   session's CSRF token on each, and a request without it is refused.
 * Screenshots of each state checked go to test-artifacts/dashboard/.
 */
// The functions handed to page.evaluate run in the page: they need the DOM's types.
/// <reference lib="dom" />
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3 } from '../fixtures/mp3.js';
import { cliJson, type CliEnv } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { listObjects, putObject, s3Client } from '../support/s3-objects.js';
import { settled, waitFor, type ServiceProcess } from '../support/service-process.js';
import { serviceMachine, type ServiceMachine, type ServiceMachineOptions } from '../support/service-machine.js';
import { launchBrowser, loggedInContext } from '../support/browser.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/dashboard/', import.meta.url));
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

let server: S3rver;
let s3: S3Client;
let browser: Browser;
let buckets = 0;
const running: ServiceProcess[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  // Chromium first: without it this file fails here, saying what to install.
  browser = await launchBrowser();
  server = await startS3rver();
  s3 = s3Client(server.endpoint);
  await mkdir(ARTIFACTS, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  s3?.destroy();
  await server?.stop();
});
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
  for (const s of running.splice(0)) {
    s.child.kill('SIGKILL');
    await s.exited;
  }
});

type Machine = ServiceMachine;

async function freshBucket(): Promise<string> {
  const bucket = `dashui${++buckets}`;
  await server.createBucket(bucket);
  return bucket;
}

const machine = (bucket: string, o: ServiceMachineOptions): Promise<Machine> => serviceMachine(server.endpoint, bucket, running, o);

async function music(bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [k, etag] of await listObjects(s3, bucket, 'dj/music/')) out.set(k.slice('dj/music/'.length), etag);
  return out;
}

/** A state-changing request the page sent to the API, with the CSRF header it carried. */
interface Sent {
  method: string;
  path: string;
  csrf: string | undefined;
  body: unknown;
}

/**
 * openDashboard logs a fresh browser context in to `s` through a one-time
 * link, and records the page's state-changing API requests and its script
 * errors and CSP violations.
 */
async function openDashboard(s: ServiceProcess): Promise<{ page: Page; sent: Sent[]; errors: string[] }> {
  const { context, page } = await loggedInContext(browser, s.port, s.token);
  contexts.push(context);
  const sent: Sent[] = [];
  const errors: string[] = [];
  page.on('request', (r: Request) => {
    const url = new URL(r.url());
    if (r.method() !== 'GET' && url.pathname.startsWith('/api/')) sent.push({ method: r.method(), path: url.pathname, csrf: r.headers()['x-csrf-token'], body: r.postDataJSON() as unknown });
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  // The browser holds the cookie and nothing else: no Authorization header rides on its requests.
  page.on('request', (r: Request) => {
    if (r.headers().authorization) errors.push(`a request carried Authorization: ${r.url()}`);
  });
  await page.waitForSelector('#state');
  return { page, sent, errors };
}

/** go clicks the page's navigation link `name` and waits until its page has loaded what it reads. */
async function go(page: Page, name: string): Promise<void> {
  await page.click(`nav >> text=${name}`);
  await page.waitForFunction((n) => document.querySelector('main')?.getAttribute('aria-label') === n, name);
  await page.waitForFunction(() => ![...document.querySelectorAll('main [role="status"]')].some((e) => e.textContent?.startsWith('Loading')));
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `controls-ui-${name}.png`), fullPage: true });

/** The session's CSRF token, read as the page reads it (same origin, its cookie). */
const csrfOf = (page: Page) => page.evaluate(async () => ((await (await fetch('/api/session')).json()) as { csrf: string }).csrf);

describe('the dashboard’s controls in Chromium on the real routes, with a cookie session', () => {
  it('restores a remote trash batch with its Restore button: back in the bucket, back in the library after Rescan, and a restore row on Activity', async () => {
    const bucket = await freshBucket();
    // Two-way with deletes: a file deleted here goes to the remote trash, and a restored object comes back down.
    const m = await machine(bucket, { user: 'dj', service: { mode: 'sync', delete: true } });
    const files = (await makeLibrary(m.lib, { albums: 1, tracksPerAlbum: 3, flacShare: 0, seed: 'trash-ui' })).filter((p) => p.endsWith('.mp3'));
    const s = await m.start();
    await settled(s);
    const gone = files[1]!;
    const bytes = await readFile(join(m.lib, gone));
    await rm(join(m.lib, gone));
    await waitFor('the deletion to reach the bucket', async () => !(await music(bucket)).has(gone));
    await settled(s);

    const { page, sent, errors } = await openDashboard(s);
    await go(page, 'Controls');
    const restore = page.locator('button[aria-label^="Restore remote batch "]');
    await restore.waitFor();
    expect(await restore.count()).toBe(1);
    await page.click('text=On the remote >> xpath=following-sibling::ul[1] >> summary');
    expect(await page.textContent('.batches')).toContain(`music/${gone}`);
    await shot(page, 'trash-before-restore');
    await restore.click();
    await page.waitForSelector('text=Restored 1 file(s)');
    // The list is read again: the batch is gone from it.
    await page.waitForSelector('button[aria-label^="Restore remote batch "]', { state: 'detached' });
    expect((await music(bucket)).get(gone)).toBe(md5(bytes));
    await shot(page, 'trash-restored');

    // A rescan from the page: the sync run brings the restored object back into the library.
    await page.click('#rescan');
    await page.waitForSelector('text=A full rescan is queued.');
    await waitFor('the restored file back in the library', () => existsSync(join(m.lib, gone)));
    expect(await readFile(join(m.lib, gone))).toEqual(bytes);
    await settled(s);

    // Activity lists the restore (its rows are written in batches: wait until the history holds it, then look).
    await waitFor('the restore in the history', async () => ((await (await s.api('/api/activity?kinds=restore')).json()) as { total: number }).total > 0);
    await go(page, 'Activity');
    await page.check('label.check:has-text("restore") >> input');
    await page.waitForSelector('#activity-count:text-is("1 entry")');
    const row = page.locator('.arow', { hasText: gone });
    await row.waitFor();
    expect(await row.locator('.kind').textContent()).toBe('restore');
    expect(await row.locator('.meta').textContent()).toMatch(/^from the remote trash · /);
    await shot(page, 'activity-restore-row');

    expect(sent.map((x) => `${x.method} ${x.path}`)).toEqual(['POST /api/trash/restore', 'POST /api/rescan']);
    const csrf = await csrfOf(page);
    for (const x of sent) expect(x.csrf, x.path).toBe(csrf);
    expect(errors).toEqual([]);
  }, 120_000);

  it('shows a bad setting’s error next to its field with the file unchanged; a saved exclude pattern is used at once', async () => {
    const bucket = await freshBucket();
    // The config file's folder is named like a setting: the service's errors start with the file's path,
    // and the page must still put each next to the field the error is about.
    const m = await machine(bucket, { user: 'dj', configDir: 'include' });
    await mkdir(join(m.lib, 'Public'), { recursive: true });
    await writeFile(join(m.lib, 'Public', 'one.mp3'), makeMp3({ seed: 'one' }));
    const s = await m.start();
    await settled(s);
    const before = await readFile(m.config, 'utf8');

    const { page, sent, errors } = await openDashboard(s);
    await go(page, 'Controls');
    await page.waitForSelector('#set-transfers');
    expect(await page.inputValue('#set-transfers')).toBe('16');

    // transfers 0, sent with Enter from the field as a person would.
    await page.fill('#set-transfers', '0');
    await page.press('#set-transfers', 'Enter');
    await page.waitForSelector('#set-transfers-error');
    expect(await page.textContent('#set-transfers-error')).toContain('transfers');
    expect(await page.getAttribute('#set-transfers', 'aria-invalid')).toBe('true');
    expect(await page.isVisible('#set-pullInterval-error')).toBe(false);
    expect(await page.isVisible('#set-include-error')).toBe(false);
    await shot(page, 'settings-bad-transfers');
    expect(await readFile(m.config, 'utf8')).toBe(before);

    // A bad pull interval: the error moves to that field.
    await page.fill('#set-transfers', '2');
    await page.fill('#set-pullInterval', '1ms');
    await page.click('text=Save settings');
    await page.waitForSelector('#set-pullInterval-error');
    expect(await page.textContent('#set-pullInterval-error')).toContain('service.pullInterval');
    expect(await page.isVisible('#set-transfers-error')).toBe(false);
    await shot(page, 'settings-bad-pull-interval');
    expect(await readFile(m.config, 'utf8')).toBe(before);

    // Put the interval right, add an exclude pattern by typing it, save.
    await page.fill('#set-pullInterval', '5m');
    await page.click('#set-exclude');
    await page.keyboard.type('Private/**');
    const since = ((await (await s.api('/api/events?timeout=0')).json()) as Array<{ id: number }>).at(-1)?.id ?? 0;
    await page.click('text=Save settings');
    await page.waitForSelector('text=Saved; the service uses them now.');
    expect(await page.isVisible('.field-error')).toBe(false);
    expect(await page.inputValue('#set-exclude')).toBe('Private/**');
    await shot(page, 'settings-saved');
    // Only what was changed is written: the other settings' defaults stay out of the file.
    expect(JSON.parse(await readFile(m.config, 'utf8'))).toEqual({ library: m.lib, remote: `s3://${bucket}/dj`, user: 'dj', exclude: ['Private/**'], transfers: 2, service: { quiet: '300ms' } });
    const events = (await (await s.api(`/api/events?since=${since}&timeout=5&types=config`)).json()) as Array<{ type: string }>;
    expect(events.map((e) => e.type)).toEqual(['config']);

    // The service uses it: Private/ stays home, Public/ goes.
    await mkdir(join(m.lib, 'Private'), { recursive: true });
    await writeFile(join(m.lib, 'Private', 'secret.mp3'), makeMp3({ seed: 'secret' }));
    await writeFile(join(m.lib, 'Public', 'two.mp3'), makeMp3({ seed: 'two' }));
    await waitFor('Public/two.mp3 in the bucket', async () => (await music(bucket)).has('Public/two.mp3'));
    await settled(s);
    expect([...(await music(bucket)).keys()].sort()).toEqual(['Public/one.mp3', 'Public/two.mp3']);

    // An emptied field takes the setting out of the file: the form shows the service's default again.
    await page.fill('#set-transfers', '');
    await page.click('text=Save settings');
    await page.waitForFunction(() => (document.getElementById('set-transfers') as HTMLInputElement | null)?.value === '16');
    await page.waitForSelector('text=Saved; the service uses them now.');
    expect(JSON.parse(await readFile(m.config, 'utf8'))).toEqual({ library: m.lib, remote: `s3://${bucket}/dj`, user: 'dj', exclude: ['Private/**'], service: { quiet: '300ms' } });

    expect(sent.map((x) => `${x.method} ${x.path}`)).toEqual(Array(4).fill('PUT /api/settings'));
    expect(sent.map((x) => x.body)).toEqual([{ transfers: 0 }, { transfers: 2, pullInterval: '1ms' }, { transfers: 2, exclude: ['Private/**'] }, { transfers: null }]);
    const csrf = await csrfOf(page);
    for (const x of sent) expect(x.csrf, x.path).toBe(csrf);
    expect(errors).toEqual([]);
  }, 120_000);

  it('shows the crew (user, machine, last seen, a playlist and what you lack, the refused objects) and Pull fetches the tracks and writes the playlist', async () => {
    const bucket = await freshBucket();
    const alice = await machine(bucket, { user: 'alice' });
    const bob = await machine(bucket, { user: 'bob' });
    const tracks = (await makeLibrary(alice.lib, { albums: 2, tracksPerAlbum: 2, flacShare: 0, seed: 'alice-ui' })).filter((p) => p.endsWith('.mp3'));
    const pushed = await cliJson(alice.env, '--config', alice.config, 'push');
    expect(pushed.code, pushed.stderr).toBe(0);
    // A playlist of hers as a player of hers publishes it, and one entry that climbs out of the library.
    const set = [tracks[0]!, tracks[3]!];
    await putObject(s3, bucket, 'dj/playlists/alice/Warm Up.m3u8', Buffer.from(`#EXTM3U\n${set.join('\n')}\n../../etc/passwd\n`));
    await writeFile(join(bob.lib, 'Mine.mp3'), makeMp3({ seed: 'bob-ui' }));

    const s = await bob.start();
    await settled(s);
    await waitFor('bob in the users registry', async () => (await listObjects(s3, bucket, 'dj/.cratesync/users/')).size === 2);
    const crew = (await (await s.api('/api/crew')).json()) as { users: Array<{ name: string; machines: Array<{ id: string }> }> };
    const aliceMachine = crew.users.find((u) => u.name === 'alice')!.machines[0]!.id;

    const { page, sent, errors } = await openDashboard(s);
    await go(page, 'Crew');
    const card = page.locator('section[aria-label="User alice"]');
    await card.waitFor();
    expect(await page.locator('section[aria-label="User bob"]').count()).toBe(1);
    const text = (await card.textContent()) ?? '';
    expect(text).toContain(`Has ${tracks.length} files`);
    // Her machine, seen by her push a moment ago.
    expect(text).toMatch(new RegExp(`${aliceMachine} — last seen (just now|\\d+ min ago)`));
    const row = card.locator('tr', { hasText: 'Warm Up' });
    expect(await row.locator('td').allTextContents()).toEqual(['Warm Up', '2', '2', 'Pull']);
    // The entry that climbs out is shown as a problem of the bucket, not followed; the crew was read once
    // already (above), so the page's read comes from the service's cache of the playlist and must still tell it.
    expect(await page.locator('#h-crew-problems').count()).toBe(1);
    expect(await page.textContent('.crew-problems')).toContain('playlists/alice/Warm Up.m3u8');
    await shot(page, 'crew-before-pull');

    await page.click('button[aria-label="Pull Warm Up from alice"]');
    await page.waitForSelector('text=Pulling Warm Up from alice: 2 of 2 tracks to fetch');
    const m3u = join(bob.lib, 'Playlists', 'alice', 'Warm Up.m3u8');
    await waitFor('the playlist written', () => existsSync(m3u));
    for (const t of set) expect(await readFile(join(bob.lib, t))).toEqual(await readFile(join(alice.lib, t)));
    expect(existsSync(join(bob.lib, tracks[1]!))).toBe(false);
    const m3uText = await readFile(m3u, 'utf8');
    for (const t of set) expect(m3uText).toContain(`../../${t}`);
    expect(m3uText).not.toContain('passwd');
    // The page reads the crew again when the run ends: nothing of the playlist is lacking now.
    await page.waitForFunction(() => document.querySelector('section[aria-label="User alice"] tr:has(td) td:nth-child(3)')?.textContent === '0');
    expect(await card.textContent()).toContain(`Has ${tracks.length - 2} files`);
    await shot(page, 'crew-pulled');

    // Pulled again with every track at hand: no run, the playlist is written at once.
    await rm(m3u);
    await page.click('button[aria-label="Pull Warm Up from alice"]');
    await page.waitForSelector('text=You have every track of Warm Up');
    expect(existsSync(m3u)).toBe(true);
    await shot(page, 'crew-pulled-again');

    expect(sent.map((x) => `${x.method} ${x.path}`)).toEqual(['POST /api/crew/pull', 'POST /api/crew/pull']);
    const csrf = await csrfOf(page);
    for (const x of sent) expect(x.csrf, x.path).toBe(csrf);
    expect(errors).toEqual([]);
  }, 120_000);

  it('pauses, resumes and rescans from Controls with the cookie session, the page sending the CSRF token (a request without it is refused)', async () => {
    const bucket = await freshBucket();
    const m = await machine(bucket, { user: 'dj' });
    await writeFile(join(m.lib, 'one.mp3'), makeMp3({ seed: 'pause-one' }));
    const s = await m.start();
    await settled(s);

    const { page, sent, errors } = await openDashboard(s);
    await go(page, 'Controls');
    await page.click('#pause');
    await waitFor('the service paused', async () => (await s.status()).state === 'paused');
    await page.waitForSelector('#controls-state:text-is("paused")');
    await page.waitForSelector('text=Paused.');
    await shot(page, 'paused');

    // While paused a new file waits; Resume sends it.
    await writeFile(join(m.lib, 'two.mp3'), makeMp3({ seed: 'pause-two' }));
    await waitFor('the new file queued', async () => (await s.status()).queue.length > 0);
    expect((await music(bucket)).has('two.mp3')).toBe(false);
    // Focus the button and press it from the keyboard.
    await page.focus('#resume');
    await page.keyboard.press('Enter');
    await waitFor('the service resumed', async () => (await s.status()).state !== 'paused');
    await waitFor('two.mp3 in the bucket', async () => (await music(bucket)).has('two.mp3'));
    await settled(s);
    await page.waitForSelector('#controls-state:text-is("idle")');
    await shot(page, 'resumed');

    // Rescan: a full run follows (the run count grows), asked for by the page.
    const runs = (await s.status()).totals.runs as number;
    await page.click('#rescan');
    await page.waitForSelector('text=A full rescan is queued.');
    await waitFor('a run after the rescan', async () => ((await s.status()).totals.runs as number) > runs);
    expect(s.logs.some((l) => l.msg === 'full rescan asked for')).toBe(true);
    await settled(s);
    await shot(page, 'rescanned');

    expect(sent.map((x) => `${x.method} ${x.path}`)).toEqual(['POST /api/pause', 'POST /api/resume', 'POST /api/rescan']);
    const csrf = await csrfOf(page);
    expect(csrf).toEqual(expect.any(String));
    for (const x of sent) expect(x.csrf, x.path).toBe(csrf);
    // The same request from the page without the token is refused, and the service is not paused by it.
    const refused = await page.evaluate(async () => (await fetch('/api/pause', { method: 'POST' })).status);
    expect(refused).toBe(403);
    expect((await s.status()).state).toBe('idle');
    expect(errors).toEqual([]);
  }, 120_000);
});
