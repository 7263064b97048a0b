/**
 * The dashboard's way in, as routes and checks of the control API: minting a
 * one-time link (token holders only), trading it for a session cookie, the
 * session's CSRF token, and the session half of the control API's guard.
 */
import type { Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { DashboardAccess, SESSION_COOKIE, secretEquals, type DashboardSession } from './dashboard-access.js';
import { linkUsedPage, PAGE_HEADERS } from './dashboard-pages.js';

/** How a request proved who it comes from: the service token, or a dashboard session cookie. */
export type Identity = { kind: 'bearer' } | { kind: 'session'; session: DashboardSession };

/** The guard's verdict per request, for the routes that care (a WeakMap: the app's type stays as other modules know it). */
const identities = new WeakMap<Request, Identity>();

/** identityOf is how the guard let request `c` in; a route behind the guard always has one. */
export function identityOf(c: Context): Identity | undefined {
  return identities.get(c.req.raw);
}

/** setIdentity records what the guard found for `c`. */
export function setIdentity(c: Context, id: Identity): void {
  identities.set(c.req.raw, id);
}

/** Methods that change nothing; every other one needs the CSRF token and the Origin when it comes with the cookie. */
const SAFE_METHODS = new Set(['GET', 'HEAD']);

/** The login route's path prefix, the one way in without a credential. */
const LOGIN_PREFIX = '/login/';

/** isLoginRequest: `GET /login/<secret>`, which the guard lets through: the secret is its credential. */
export function isLoginRequest(c: Context): boolean {
  return c.req.method === 'GET' && /^\/login\/[^/]+$/.test(c.req.path);
}

/**
 * sessionCookies are the values of every `cratesync_session` cookie in a
 * Cookie header. Cookies do not keep to a port: other servers on 127.0.0.1
 * may have set one of the same name, so each is tried.
 */
export function sessionCookies(header: string | undefined): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const v = part.slice(eq + 1).trim();
    if (/^[A-Za-z0-9_-]{1,128}$/.test(v)) out.push(v);
  }
  return out;
}

/**
 * sessionIdentity is the session request `c` carries a cookie of, checked for
 * a state-changing method: an Origin of this service (`ownOrigin`) and the
 * session's CSRF token in `X-CSRF-Token`, else HTTPException 403. Undefined
 * when the request has no valid session cookie.
 */
export function sessionIdentity(c: Context, access: DashboardAccess, ownOrigin: (origin: string) => boolean): Identity | undefined {
  let session: DashboardSession | undefined;
  for (const id of sessionCookies(c.req.header('cookie'))) {
    session = access.session(id);
    if (session) break;
  }
  if (!session) return undefined;
  if (!SAFE_METHODS.has(c.req.method)) {
    const origin = c.req.header('origin');
    if (origin === undefined || !ownOrigin(origin)) {
      throw new HTTPException(403, { message: `refused: a ${c.req.method} with the dashboard's cookie must come with this service's Origin` });
    }
    if (!secretEquals(c.req.header('x-csrf-token'), session.csrf)) {
      throw new HTTPException(403, { message: `refused: a ${c.req.method} with the dashboard's cookie needs the session's X-CSRF-Token (GET /api/session)` });
    }
  }
  return { kind: 'session', session };
}

/** The Set-Cookie value for a session: a browser-session cookie, sent only by same-site requests and never to scripts. */
function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`;
}

/**
 * addAccessRoutes adds `POST /api/dashboard/link`, `GET /login/<secret>`,
 * `GET /api/session` and a stand-in page at `/` to `app`, whose guard has
 * set each request's identity. `port` is where the service listens.
 */
export function addAccessRoutes(app: Hono, access: DashboardAccess, port: () => number): void {
  app.post('/api/dashboard/link', (c) => {
    // A session must not outlive itself by minting new ones: links are for the token's holder only.
    if (identityOf(c)?.kind !== 'bearer') throw new HTTPException(403, { message: 'refused: only the service token may make login links (cratesync dashboard)' });
    const secret = access.mintLink();
    c.header('cache-control', 'no-store');
    return c.json({ url: `http://127.0.0.1:${port()}${LOGIN_PREFIX}${secret}` });
  });

  app.get(`${LOGIN_PREFIX}:secret`, (c) => {
    const headers = { ...PAGE_HEADERS, 'cache-control': 'no-store' };
    const opened = access.redeem(c.req.param('secret'));
    if (!opened) return c.html(linkUsedPage(), 403, headers);
    // A browser that logs in again leaves its old session behind: end it.
    for (const old of sessionCookies(c.req.header('cookie'))) access.end(old);
    return c.body(null, 303, { ...headers, location: '/', 'set-cookie': sessionCookie(opened.id) });
  });

  app.get('/api/session', (c) => {
    const id = identityOf(c);
    if (id?.kind !== 'session') throw new HTTPException(404, { message: 'no dashboard session: this request came with the service token' });
    c.header('cache-control', 'no-store');
    return c.json({ csrf: id.session.csrf });
  });
}
