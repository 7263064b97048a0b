/**
 * The control API: HTTP on 127.0.0.1 in front of a {@link ServiceControl}.
 * Only the user who can read the service's token file may use it: every
 * request carries `Authorization: Bearer <token>`, or the cookie of a
 * dashboard session opened by a one-time link that token minted (then a
 * state-changing request also needs the session's CSRF token and this
 * service's Origin: dashboard-access-routes.ts). A browser page from
 * elsewhere cannot reach it either: the Host must be a loopback name with the
 * service's port (DNS rebinding) and an Origin, when sent, one of the
 * service's own (cross-site requests). Routes are listed in the README (Control API).
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError, CratesyncError, describe, UsageError } from '../errors.js';
import type { RunRequest, ServiceControl } from './control.js';
import type { EventLog } from './event-log.js';
import type { ServiceEvent } from './service-events.js';
import { DashboardAccess } from './dashboard-access.js';
import { addAccessRoutes, isLoginRequest, sessionIdentity, setIdentity } from './dashboard-access-routes.js';
import { loginNeededPage, PAGE_HEADERS, refusedPage } from './dashboard-pages.js';
import { activityRoutes } from './activity-routes.js';
import { addControlRoutes } from './dashboard-controls.js';
import { serveDashboard } from './dashboard-static.js';

export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

export interface ControlAppOptions {
  token: string;
  /** The port the server listens on (known only once it listens). */
  port: () => number;
  /** Ended when the server closes: long-polls answer and event streams end. */
  signal?: AbortSignal;
  log?: Logger;
  /** The dashboard's links and sessions (tests inject one with a clock); a new one when absent. */
  access?: DashboardAccess;
}

/** Long-poll timeout in seconds when the client names none, and the most it may ask. */
const POLL_DEFAULT_S = 30;
const POLL_MAX_S = 60;
/** A comment line this often keeps idle event streams open through proxies and lets dead clients be noticed. */
const KEEP_ALIVE_MS = 15_000;

/** bearerMatches compares `Authorization: Bearer <t>` with the token in constant time. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!m?.[1] || token.length === 0) return false;
  // Hash both sides so that lengths match and timingSafeEqual leaks nothing about the token's length.
  const a = createHash('sha256').update(m[1]).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** The loopback names the service answers to, with its port: what Host may be and what Origin's host may be. */
function loopbackHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/**
 * guard refuses requests with a foreign Host (403) or Origin (403), then
 * those that prove no identity (401): neither the token nor a dashboard
 * session (whose state-changing requests it checks further, 403). Only
 * `GET /login/<secret>` passes without either: its secret is its proof.
 */
function guard(o: ControlAppOptions, access: DashboardAccess): MiddlewareHandler {
  return async (c, next) => {
    const hosts = loopbackHosts(o.port());
    const host = (c.req.header('host') ?? '').toLowerCase();
    if (!hosts.has(host)) throw new HTTPException(403, { message: `refused: Host ${JSON.stringify(host)} is not this service's loopback address` });
    const origin = c.req.header('origin');
    if (origin !== undefined && !hosts.has(originHost(origin))) {
      throw new HTTPException(403, { message: `refused: Origin ${JSON.stringify(origin)} is not this service` });
    }
    if (bearerMatches(c.req.header('authorization'), o.token)) {
      setIdentity(c, { kind: 'bearer' });
    } else {
      const session = sessionIdentity(c, access, (other) => hosts.has(originHost(other)));
      if (session) setIdentity(c, session);
      else if (!isLoginRequest(c)) {
        throw new HTTPException(401, { message: 'refused: missing or wrong token (Authorization: Bearer <token from the service folder>), and no dashboard session (cratesync dashboard)' });
      }
    }
    await next();
  };
}

/** The host:port of an `http://` origin, lowercased; '' for anything else (`null`, https, paths). */
function originHost(origin: string): string {
  const m = /^http:\/\/([^/?#@\s]+)$/i.exec(origin.trim());
  return m?.[1]?.toLowerCase() ?? '';
}

const runRequestSchema = z.strictObject({
  direction: z.enum(['push', 'pull', 'sync']),
  delete: z.boolean().optional(),
  maxDelete: z.string().max(32).optional(),
  full: z.boolean().optional(),
  include: z.array(z.string().max(4096)).max(1000).optional(),
  exclude: z.array(z.string().max(4096)).max(1000).optional(),
  paths: z.array(z.string().min(1).max(4096)).max(200_000).optional(),
  transfers: z.number().int().min(1).max(256).optional(),
});

/** The one place where errors become status codes and `{error}` bodies. */
function statusOf(err: unknown): 400 | 401 | 403 | 404 | 409 | 500 {
  if (err instanceof HTTPException) {
    const s = err.status;
    return s === 400 || s === 401 || s === 403 || s === 404 || s === 409 ? s : 500;
  }
  if (err instanceof UsageError || err instanceof ConfigError) return 400;
  // A valid request the service cannot carry out now (stopping, in error): a conflict with its state.
  if (err instanceof CratesyncError) return 409;
  return 500;
}

/** controlApp builds the routes over `control`; startControlServer serves it (tests may call it directly). */
export function controlApp(control: ServiceControl, o: ControlAppOptions): Hono {
  const app = new Hono();
  const access = o.access ?? new DashboardAccess();
  app.onError((err, c) => {
    const status = statusOf(err);
    if (status === 500) o.log?.error({ err }, 'control API: unexpected error');
    // A browser asking for a page gets a page; API clients get JSON.
    if ((status === 401 || status === 403) && !c.req.path.startsWith('/api/')) {
      return c.html(status === 401 ? loginNeededPage() : refusedPage(status, err.message.split('\n')[0] ?? ''), status, PAGE_HEADERS);
    }
    return c.json({ error: status === 500 ? `internal error: ${describe(err)}` : err.message.split('\n')[0] }, status);
  });
  app.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  app.use('*', guard(o, access));

  app.get('/api/health', (c) => c.json({ ok: true }));
  app.get('/api/status', (c) => c.json(control.status()));
  app.post('/api/pause', (c) => {
    control.pause();
    return c.json({ ok: true });
  });
  app.post('/api/resume', (c) => {
    control.resume();
    return c.json({ ok: true });
  });
  app.post('/api/rescan', (c) => {
    control.rescan();
    return c.json({ ok: true });
  });
  app.post('/api/reload', async (c) => {
    await control.reload();
    return c.json({ ok: true });
  });
  app.post('/api/stop', (c) => {
    // Answer first: stopping ends this server too.
    setImmediate(() => {
      control.stop().catch((err: unknown) => o.log?.error({ err }, 'control API: stop failed'));
    });
    return c.json({ ok: true }, 202);
  });
  app.post('/api/runs', async (c) => {
    const req = parseRunRequest(await c.req.text());
    return c.json(control.run(req), 202);
  });
  app.get('/api/events', async (c) => {
    const since = fromId(control.events, intParam(c.req.query('since'), 'since', 0));
    const timeout = Math.min(intParam(c.req.query('timeout'), 'timeout', POLL_DEFAULT_S), POLL_MAX_S);
    const types = typesParam(c.req.query('types'));
    const signal = o.signal ? AbortSignal.any([c.req.raw.signal, o.signal]) : c.req.raw.signal;
    return c.json(await control.events.wait(since, timeout * 1000, signal, types));
  });
  app.get('/api/events/stream', (c) => {
    const since = fromId(control.events, intParam(c.req.header('last-event-id') ?? c.req.query('since'), 'Last-Event-ID', control.events.lastId));
    const types = typesParam(c.req.query('types'));
    const signal = o.signal ? AbortSignal.any([c.req.raw.signal, o.signal]) : c.req.raw.signal;
    return streamSSE(c, (stream) => streamEvents(control.events, since, types, stream, signal));
  });
  addAccessRoutes(app, access, o.port);
  activityRoutes(app, control);
  addControlRoutes(app, control);
  serveDashboard(app);
  return app;
}

/** parseRunRequest validates a POST /api/runs body; UsageError names the bad field. */
export function parseRunRequest(body: string): RunRequest {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new UsageError('request body: not JSON');
  }
  const r = runRequestSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : 'body';
    throw new UsageError(`request body: ${field}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data as RunRequest;
}

function intParam(value: string | undefined, name: string, dflt: number): number {
  if (value === undefined || value === '') return dflt;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`${name} must be a whole number ≥ 0, not ${JSON.stringify(value.slice(0, 40))}`);
  return Number(value);
}

/** An id above the newest was given out before the service restarted (ids start at 1 again): start from the oldest held. */
function fromId(log: EventLog, since: number): number {
  return since > log.lastId ? 0 : since;
}

function typesParam(value: string | undefined): ReadonlySet<string> | undefined {
  if (!value) return undefined;
  return new Set(value.split(',').map((t) => t.trim()).filter(Boolean));
}

interface SseSink {
  readonly aborted: boolean;
  onAbort(fn: () => void): void;
  write(s: string): Promise<unknown>;
  writeSSE(m: { id: string; event: string; data: string }): Promise<void>;
}

/** streamEvents sends the events after `since`, then each new one, until the client leaves or the server closes (`closing`). */
async function streamEvents(log: EventLog, since: number, types: ReadonlySet<string> | undefined, stream: SseSink, closing: AbortSignal): Promise<void> {
  let wake: (() => void) | undefined;
  let ended = false;
  const end = () => {
    ended = true;
    wake?.();
  };
  const unsubscribe = log.subscribe(() => wake?.());
  stream.onAbort(end);
  if (closing.aborted) ended = true;
  closing.addEventListener('abort', end, { once: true });
  const keepAlive = setInterval(() => {
    stream.write(': keep-alive\n\n').catch(end);
  }, KEEP_ALIVE_MS);
  let sent = since;
  try {
    while (!ended && !stream.aborted) {
      const all: ServiceEvent[] = log.since(sent);
      if (all.length === 0) {
        // No await between the check above and setting wake: an event cannot slip in between.
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      sent = all[all.length - 1]?.id ?? sent;
      for (const e of all) {
        if (types && types.size > 0 && !types.has(e.type)) continue;
        await stream.writeSSE({ id: String(e.id), event: e.type, data: JSON.stringify(e) });
      }
    }
  } finally {
    clearInterval(keepAlive);
    unsubscribe();
    closing.removeEventListener('abort', end);
  }
}

/**
 * startControlServer serves the control API on 127.0.0.1, on `o.port` or a
 * free port (0). Resolves once it listens; close() ends open long-polls and
 * event streams and resolves when the server has closed.
 */
export async function startControlServer(control: ServiceControl, o: { token: string; port?: number; log?: Logger }): Promise<ControlServer> {
  const closing = new AbortController();
  setMaxListeners(0, closing.signal);
  let port = 0;
  const app = controlApp(control, { token: o.token, port: () => port, signal: closing.signal, log: o.log });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: o.port ?? 0 }, (info: AddressInfo) => {
      port = info.port;
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
  return {
    get port() {
      return port;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        closing.abort();
        server.close((err) => (err ? reject(err) : resolve()));
        // Idle keep-alive sockets would hold close() open.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
        setImmediate(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
        });
      }),
  };
}
