/**
 * Getting into the dashboard end to end: the real CLI (`cratesync dashboard`)
 * and the real service process, over HTTP on 127.0.0.1. The link logs in
 * once; the cookie it sets reads the API, changes things only with its CSRF
 * token and the service's Origin; without it, 401. The service syncs a plain
 * folder here: what is tested is its HTTP side, not a remote.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, type CliEnv } from '../support/cli.js';
import { startService, type ServiceProcess } from '../support/service-process.js';

const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-dash-${name}-`));

interface Machine {
  env: CliEnv;
  config: string;
  lib: string;
}

const started: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of started.splice(0)) await stop();
});

async function machine(o: { lib?: string } = {}): Promise<Machine> {
  const home = await tmp('home');
  const lib = o.lib ?? join(await tmp('lib'), 'Music');
  const remote = join(await tmp('remote'), 'bucket');
  if (!o.lib) {
    await mkdir(lib, { recursive: true });
    await writeFile(join(lib, 'a.mp3'), 'ID3 not really audio');
  }
  await mkdir(remote, { recursive: true });
  const config = join(home, 'config.json');
  await writeFile(config, JSON.stringify({ library: lib, remote, service: { quiet: '200ms' } }));
  return { env: { home }, config, lib };
}

/** A service the test started with the support helper (foreground, killed after the test). */
async function runService(m: Machine): Promise<ServiceProcess> {
  const s = await startService(m.env.home, m.config);
  started.push(async () => {
    s.child.kill('SIGKILL');
    await s.exited;
  });
  return s;
}

const LINK = /^http:\/\/127\.0\.0\.1:(\d+)\/login\/[A-Za-z0-9_-]{43}$/;

describe('cratesync dashboard', () => {
  it('starts the service, prints a one-time link; the link logs in once and the cookie opens the API with the CSRF and Origin rules', async () => {
    const m = await machine();
    const r = await cli(m.env, '--config', m.config, 'dashboard', '--no-open');
    started.push(() => cli(m.env, '--config', m.config, 'service', 'stop'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/started the cratesync service/);
    expect(r.stderr).toMatch(/works once, within 10 minutes/);
    const url = r.stdout.trim();
    expect(url).toMatch(LINK);
    const base = `http://127.0.0.1:${LINK.exec(url)?.[1]}`;

    // The link: 303 to / with the session cookie, then never again.
    const login = await fetch(url, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/');
    const setCookie = login.headers.getSetCookie();
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^cratesync_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie[0]).toMatch(/; HttpOnly(;|$)/);
    expect(setCookie[0]).toMatch(/; SameSite=Strict(;|$)/);
    expect(setCookie[0]).toMatch(/; Path=\/(;|$)/);
    const cookie = setCookie[0]?.split(';')[0] ?? '';
    const again = await fetch(url, { redirect: 'manual', headers: { cookie } });
    expect(again.status).toBe(403);
    expect(await again.text()).toMatch(/cratesync dashboard/);

    // Reading: the cookie or nothing.
    expect((await fetch(`${base}/api/status`)).status).toBe(401);
    const status = await fetch(`${base}/api/status`, { headers: { cookie } });
    expect(status.status).toBe(200);
    expect(((await status.json()) as { pid: number }).pid).toBeGreaterThan(0);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toMatch(/cratesync dashboard/);
    expect((await fetch(`${base}/`, { headers: { cookie } })).status).not.toBe(401);

    // Changing: the cookie needs the CSRF token and this service's Origin.
    const s = await fetch(`${base}/api/session`, { headers: { cookie } });
    const { csrf } = (await s.json()) as { csrf: string };
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const pause = (headers: Record<string, string>) => fetch(`${base}/api/pause`, { method: 'POST', headers: { cookie, ...headers } });
    expect((await pause({ origin: base })).status).toBe(403);
    expect((await pause({ origin: 'http://evil.example', 'x-csrf-token': csrf })).status).toBe(403);
    expect(((await (await fetch(`${base}/api/status`, { headers: { cookie } })).json()) as { state: string }).state).not.toBe('paused');
    expect((await pause({ origin: base, 'x-csrf-token': csrf })).status).toBe(200);
    expect(((await (await fetch(`${base}/api/status`, { headers: { cookie } })).json()) as { state: string }).state).toBe('paused');

    // A second run finds the service running and gives a new link.
    const r2 = await cli(m.env, '--config', m.config, 'dashboard', '--no-open');
    expect(r2.code, r2.stderr).toBe(0);
    expect(r2.stderr).not.toMatch(/started/);
    expect(r2.stdout.trim()).toMatch(LINK);
    expect(r2.stdout.trim()).not.toBe(url);
  });

  it('--json prints the link as JSON', async () => {
    const m = await machine();
    await runService(m);
    const r = await cli(m.env, '--config', m.config, 'dashboard', '--no-open', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ url: expect.stringMatching(LINK), opened: false });
  });

  it.skipIf(process.platform !== 'linux')('opens the browser with xdg-open, the link as its one argument; when that fails, prints the link', async () => {
    const m = await machine();
    await runService(m);
    const bin = await tmp('bin');
    const seen = join(bin, 'seen');
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$#" "$@" > '${seen}'\nexit "\${FAKE_OPEN_EXIT:-0}"\n`);
    await chmod(join(bin, 'xdg-open'), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };

    const ok = await cli({ ...m.env, env }, '--config', m.config, 'dashboard');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/opened the dashboard in your browser/);
    expect(ok.stdout).not.toMatch(/login/);
    const [argc, arg] = (await readFile(seen, 'utf8')).trim().split('\n');
    expect(argc).toBe('1');
    expect(arg).toMatch(LINK);
    // The link it opened works.
    expect((await fetch(arg ?? '', { redirect: 'manual' })).status).toBe(303);

    const failed = await cli({ ...m.env, env: { ...env, FAKE_OPEN_EXIT: '3' } }, '--config', m.config, 'dashboard');
    expect(failed.code, failed.stderr).toBe(0);
    expect(failed.stderr).toMatch(/could not open a browser \(xdg-open failed \(exit code 3\)\); open this link yourself/);
    expect(failed.stdout.trim()).toMatch(LINK);

    const missing = await cli({ ...m.env, env: { PATH: await tmp('empty') } }, '--config', m.config, 'dashboard');
    expect(missing.code, missing.stderr).toBe(0);
    expect(missing.stderr).toMatch(/could not open a browser \(cannot run xdg-open: ENOENT\)/);
    expect(missing.stdout.trim()).toMatch(LINK);
  });

  it('says why when the service cannot start, and exits non-zero', async () => {
    const home = await tmp('gone');
    const m = await machine({ lib: join(home, 'no such library') });
    const r = await cli(m.env, '--config', m.config, 'dashboard', '--no-open');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^cratesync: the service did not start: .*no such library/m);
  });
});
