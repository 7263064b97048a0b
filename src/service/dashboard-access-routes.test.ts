/**
 * The control API's guard with dashboard sessions, through hono's
 * `app.request` over a fake service and a clock the test moves: the link
 * route and login, the cookie's flags, what a cookie may do (read; change
 * with CSRF token and Origin; never mint links), and that the token still
 * opens every route.
 */
import { describe, expect, it } from 'vitest';
import { fakeControl } from '../../test/support/fake-control.js';
import { controlApp } from './control-api.js';
import { DashboardAccess, LINK_TTL_MS, SESSION_IDLE_MS } from './dashboard-access.js';

const TOKEN = 't'.repeat(43);
const PORT = 4321;
const ORIGIN = `http://127.0.0.1:${PORT}`;
const BEARER = { authorization: `Bearer ${TOKEN}` };

function setup() {
  let t = 5_000_000;
  const f = fakeControl();
  const app = controlApp(f.control, { token: TOKEN, port: () => PORT, access: new DashboardAccess({ now: () => t }) });
  const req = (path: string, o: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    app.request(path, { method: o.method ?? 'GET', headers: { host: `127.0.0.1:${PORT}`, ...o.headers }, body: o.body });
  const mint = async () => {
    const r = await req('/api/dashboard/link', { method: 'POST', headers: BEARER });
    expect(r.status).toBe(200);
    return ((await r.json()) as { url: string }).url;
  };
  /** Logs in through a new link; the cookie header to send and the CSRF token. */
  const login = async () => {
    const url = await mint();
    const r = await req(new URL(url).pathname);
    expect(r.status).toBe(303);
    const cookie = `cratesync_session=${/cratesync_session=([^;]+)/.exec(r.headers.get('set-cookie') ?? '')?.[1]}`;
    const s = await req('/api/session', { headers: { cookie } });
    expect(s.status).toBe(200);
    const { csrf } = (await s.json()) as { csrf: string };
    return { cookie, csrf };
  };
  return { f, req, mint, login, tick: (ms: number) => (t += ms) };
}

const errorOf = async (r: Response) => ((await r.json()) as { error: string }).error;

describe('dashboard access through the control API', () => {
  it('the token mints a link on the service own address; the link logs in once, with a strict cookie', async () => {
    const { req, mint } = setup();
    const url = await mint();
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${PORT}/login/[A-Za-z0-9_-]{43}$`));
    const r = await req(new URL(url).pathname);
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/');
    const cookie = r.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^cratesync_session=[A-Za-z0-9_-]{43}; /);
    const flags = cookie.split(';').slice(1).map((s) => s.trim());
    expect(flags).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Strict']));
    expect(flags.some((f) => /^(Domain|Secure)/i.test(f))).toBe(false);
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('cache-control')).toBe('no-store');

    const again = await req(new URL(url).pathname);
    expect(again.status).toBe(403);
    expect(again.headers.get('content-type')).toMatch(/^text\/html/);
    expect(again.headers.get('set-cookie')).toBeNull();
    expect(await again.text()).toMatch(/cratesync dashboard/);
  });

  it('a link unused for 10 minutes is refused, as is one never made', async () => {
    const { req, mint, tick } = setup();
    const url = await mint();
    tick(LINK_TTL_MS);
    expect((await req(new URL(url).pathname)).status).toBe(403);
    expect((await req(`/login/${'A'.repeat(43)}`)).status).toBe(403);
    expect((await req('/login/')).status).toBe(401);
  });

  it('the session cookie reads every route; without it or the token: 401, JSON for the API and a page without script otherwise', async () => {
    const { req, login } = setup();
    const { cookie } = await login();
    for (const path of ['/api/status', '/api/health', '/']) expect((await req(path, { headers: { cookie } })).status, path).toBe(200);

    const api = await req('/api/status');
    expect(api.status).toBe(401);
    expect(await errorOf(api)).toMatch(/token.*cratesync dashboard/);
    for (const path of ['/', '/assets/app.js', '/anything']) {
      const page = await req(path);
      expect(page.status, path).toBe(401);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toBe("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await page.text();
      expect(html).toMatch(/Open the dashboard with <code>cratesync dashboard<\/code>/);
      expect(html).not.toMatch(/<script/i);
    }
    const wrong = await req('/api/status', { headers: { cookie: 'cratesync_session=' + 'x'.repeat(43) } });
    expect(wrong.status).toBe(401);
  });

  it('a cookie POST needs the CSRF token and this service Origin: 403 without either', async () => {
    const { f, req, login } = setup();
    const { cookie, csrf } = await login();
    const post = (headers: Record<string, string>) => req('/api/pause', { method: 'POST', headers: { cookie, ...headers } });
    const refused: Array<[string, Record<string, string>]> = [
      ['no CSRF token', { origin: ORIGIN }],
      ['a wrong CSRF token', { origin: ORIGIN, 'x-csrf-token': `${csrf.slice(0, -1)}A` }],
      ['a CSRF token of another length', { origin: ORIGIN, 'x-csrf-token': `${csrf}A` }],
      ['an empty CSRF token', { origin: ORIGIN, 'x-csrf-token': '' }],
      ['no Origin', { 'x-csrf-token': csrf }],
      ['a foreign Origin', { origin: 'http://evil.example', 'x-csrf-token': csrf }],
      ['another port of 127.0.0.1', { origin: `http://127.0.0.1:${PORT + 1}`, 'x-csrf-token': csrf }],
      ['Origin null', { origin: 'null', 'x-csrf-token': csrf }],
    ];
    for (const [what, headers] of refused) {
      const r = await post(headers);
      expect(r.status, what).toBe(403);
      expect(await errorOf(r), what).toMatch(/refused/);
    }
    expect(f.calls).toEqual([]);
    for (const origin of [ORIGIN, `http://localhost:${PORT}`]) expect((await post({ origin, 'x-csrf-token': csrf })).status, origin).toBe(200);
    expect(f.calls).toEqual(['pause', 'pause']);
    // Every state-changing method, not only POST.
    for (const method of ['PUT', 'PATCH', 'DELETE']) expect((await req('/api/pause', { method, headers: { cookie, origin: ORIGIN } })).status, method).toBe(403);
  });

  it('one session CSRF token does not pass for another session', async () => {
    const { req, login } = setup();
    const a = await login();
    const b = await login();
    expect(a.csrf).not.toBe(b.csrf);
    const r = await req('/api/pause', { method: 'POST', headers: { cookie: a.cookie, origin: ORIGIN, 'x-csrf-token': b.csrf } });
    expect(r.status).toBe(403);
  });

  it('a cookie session cannot mint links, even with its CSRF token', async () => {
    const { req, login } = setup();
    const { cookie, csrf } = await login();
    const r = await req('/api/dashboard/link', { method: 'POST', headers: { cookie, origin: ORIGIN, 'x-csrf-token': csrf } });
    expect(r.status).toBe(403);
    expect(await errorOf(r)).toMatch(/only the service token/);
  });

  it('the token still opens everything, with no CSRF token and no cookie; it has no session', async () => {
    const { f, req } = setup();
    for (const path of ['/api/status', '/']) expect((await req(path, { headers: BEARER })).status, path).toBe(200);
    expect((await req('/api/pause', { method: 'POST', headers: BEARER })).status).toBe(200);
    expect(f.calls).toEqual(['pause']);
    expect((await req('/api/session', { headers: BEARER })).status).toBe(404);
    // A foreign Origin is refused for the token too.
    expect((await req('/api/pause', { method: 'POST', headers: { ...BEARER, origin: 'http://evil.example' } })).status).toBe(403);
  });

  it('a session ends after 12 hours unused: its cookie is then refused', async () => {
    const { req, login, tick } = setup();
    const { cookie } = await login();
    tick(SESSION_IDLE_MS - 1);
    expect((await req('/api/status', { headers: { cookie } })).status).toBe(200);
    tick(SESSION_IDLE_MS - 1);
    expect((await req('/api/status', { headers: { cookie } })).status).toBe(200);
    tick(SESSION_IDLE_MS);
    expect((await req('/api/status', { headers: { cookie } })).status).toBe(401);
  });

  it('logging in again ends the browser old session', async () => {
    const { req, login, mint } = setup();
    const { cookie } = await login();
    const url = await mint();
    const r = await req(new URL(url).pathname, { headers: { cookie } });
    expect(r.status).toBe(303);
    expect((await req('/api/status', { headers: { cookie } })).status).toBe(401);
  });

  it('a refused page escapes what the request sent', async () => {
    const { req } = setup();
    const r = await req('/', { headers: { ...BEARER, host: '<b>evil</b>' } });
    expect(r.status).toBe(403);
    const html = await r.text();
    expect(html).not.toContain('<b>');
    expect(html).toContain('&#60;b&#62;evil');
  });
});
