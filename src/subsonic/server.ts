/**
 * The Subsonic server: `/rest/<method>` and `/rest/<method>.view`, GET or
 * POST form (OpenSubsonic formPost), answered in XML, JSON or JSONP
 * (subsonic-response.ts). Each request is authenticated (auth.ts), the index
 * brought up to date (`serve.refresh()`), and handed to the route table's
 * handler; what it throws becomes a protocol error in one place here.
 *
 * Unknown methods are answered HTTP 200 with error 0 "Unknown method", in the
 * asked format, like every other error (Navidrome answers 404): clients
 * parse failed responses, not HTTP statuses.
 */
import { serve as nodeServe, type ServerType } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono, type Context } from 'hono';
import { cors } from 'hono/cors';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { SubsonicCode, SubsonicError } from './api-error.js';
import { authenticate, type UserDirectory } from './auth.js';
import { MAX_FORM_BYTES, paramsOf } from './params.js';
import type { RateLimiter } from './rate-limit.js';
import type { Handler, Params, RouteTable, ServeContext, ServeUser } from './route-types.js';
import { errorResponse, okResponse, responseFormat, type ResponseFormat } from './subsonic-response.js';
import { PUBLIC_METHODS } from './system-routes.js';

export interface SubsonicAppOptions {
  users: UserDirectory;
  limiter: RateLimiter;
  log: Logger;
  /** Handlers by method; a method in two tables is a wiring bug and throws at construction. */
  routes: RouteTable[];
  /** The `serverVersion` answered; cratesync's package version when absent. */
  serverVersion?: string;
}

// Anonymous: the user a public method runs as when no credentials came (its handler uses none).
const ANONYMOUS: ServeUser = { name: '' };

/**
 * subsonicApp builds the Hono app of the Subsonic API over `serve`. Throws
 * Error when two route tables name the same method.
 */
export function subsonicApp(serve: ServeContext, o: SubsonicAppOptions): Hono {
  const handlers = new Map<string, Handler>();
  for (const table of o.routes) {
    for (const [name, h] of Object.entries(table)) {
      if (handlers.has(name)) throw new Error(`subsonic method ${name} is in two route tables`);
      handlers.set(name, h);
    }
  }
  const version = o.serverVersion ?? packageVersion();
  const app = new Hono();
  // Any origin may call: credentials travel in parameters, never in cookies,
  // so a foreign page gains nothing it could not do without a browser (web
  // clients such as Feishin's web build run from their own origin).
  app.use(
    '/rest/*',
    cors({ origin: '*', allowMethods: ['GET', 'POST', 'OPTIONS'], exposeHeaders: ['Content-Length', 'Content-Range', 'Accept-Ranges', 'Content-Type'] }),
  );
  app.on(['GET', 'POST'], '/rest/:method', async (c) => {
    const started = performance.now();
    const method = (c.req.param('method') ?? '').replace(/\.view$/, '');
    let format: ResponseFormat = { kind: 'xml' };
    let user: ServeUser | undefined;
    const done = (res: Response, outcome: string): Response => {
      // Never the query string or the body: they hold credentials.
      // Failures at info (wrong passwords are worth seeing), the steady flow of answers at debug.
      const level = outcome.startsWith('failed') ? 'info' : 'debug';
      o.log[level]({ method: method.slice(0, 64), user: user?.name || undefined, status: outcome, ms: Math.round(performance.now() - started) }, 'subsonic request');
      return res;
    };
    try {
      let params: Params;
      try {
        params = await requestParams(c);
      } catch (err) {
        // The body was refused: answered in the format the query asks for.
        format = queryFormat(c);
        throw err;
      }
      try {
        format = responseFormat(params);
      } catch (err) {
        // A bad JSONP callback: answered as JSON, which no page runs as script.
        format = { kind: 'json' };
        throw err;
      }
      const handler = handlers.get(method);
      if (!handler) throw new SubsonicError(SubsonicCode.generic, 'Unknown method');
      // A public method checks credentials only when some came, so that a
      // client testing its login with ping learns of a wrong password.
      const hasCredentials = ['u', 'p', 't', 's', 'apiKey'].some((k) => params.get(k) !== undefined);
      if (!PUBLIC_METHODS.has(method) || hasCredentials) user = authenticate(params, o.users, o.limiter, clientAddress(c));
      if (!PUBLIC_METHODS.has(method)) await serve.refresh();
      const out = await handler({ method, params, user: user ?? ANONYMOUS, serve, raw: c.req.raw });
      if (out instanceof Response) return done(out, String(out.status));
      return done(okResponse(out, format, version), 'ok');
    } catch (err) {
      if (err instanceof SubsonicError) return done(errorResponse(err, format, version), `failed ${err.code}`);
      o.log.error({ method: method.slice(0, 64), user: user?.name || undefined, err }, 'subsonic request failed');
      return done(errorResponse(new SubsonicError(SubsonicCode.generic, 'Internal error'), format, version), 'failed 0 internal');
    }
  });
  return app;
}

/** The query string, merged with a form body for POST (refused past MAX_FORM_BYTES). */
async function requestParams(c: Context): Promise<Params> {
  const query = new URL(c.req.url).searchParams;
  if (c.req.method !== 'POST') return paramsOf(query);
  const type = (c.req.header('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return paramsOf(query);
  const body = await readCapped(c.req.raw, MAX_FORM_BYTES);
  return paramsOf(query, new URLSearchParams(body));
}

function queryFormat(c: Context): ResponseFormat {
  try {
    return responseFormat(paramsOf(new URL(c.req.url).searchParams));
  } catch {
    return { kind: 'json' };
  }
}

async function readCapped(req: Request, max: number): Promise<string> {
  const tooLarge = () => new SubsonicError(SubsonicCode.generic, `Request body is larger than ${max} bytes`);
  if (Number(req.headers.get('content-length') ?? 0) > max) throw tooLarge();
  if (!req.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // Not served by node (app.request in tests): one shared bucket.
    return 'unknown';
  }
}

let cachedVersion: string | undefined;

/** cratesync's version from its package.json, found upward from this module (src/ and dist/src/ alike). */
function packageVersion(): string {
  if (cachedVersion) return cachedVersion;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'cratesync' && pkg.version) return (cachedVersion = pkg.version);
    } catch {
      // Not here: one folder up.
    }
  }
  return (cachedVersion = '0.0.0');
}

export interface SubsonicListener {
  port: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  /** 0 for any free port. */
  port: number;
  /** PEM certificate chain and private key: served over HTTPS when given. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/**
 * listenSubsonic serves `app` on host:port (HTTPS when `tls` is given).
 * Resolves once it listens; rejects with the listen error (port taken,
 * address not available, bad certificate). close() drops open connections.
 */
export async function listenSubsonic(app: Hono, o: ListenOptions): Promise<SubsonicListener> {
  let port = 0;
  const server: ServerType = await new Promise((resolve, reject) => {
    const options = { fetch: app.fetch, hostname: o.host, port: o.port };
    try {
      const s = o.tls
        ? nodeServe({ ...options, createServer: createHttpsServer, serverOptions: { cert: o.tls.cert, key: o.tls.key } }, (info: AddressInfo) => listening(s, info))
        : nodeServe(options, (info: AddressInfo) => listening(s, info));
      s.once('error', reject);
      function listening(srv: ServerType, info: AddressInfo) {
        port = info.port;
        srv.off('error', reject);
        resolve(srv);
      }
    } catch (err) {
      reject(err);
    }
  });
  return {
    get port() {
      return port;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Idle keep-alive sockets and long streams would hold close() open.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
        setImmediate(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
        });
      }),
  };
}
