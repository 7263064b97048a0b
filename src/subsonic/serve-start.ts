/**
 * Starting the Subsonic server over a {@link ServeContext}: the users of its
 * state, the rate limiter, the route tables, and the listening socket (HTTPS
 * when TLS files are given). Shared by `cratesync serve` and the service, so
 * that both serve the same methods the same way.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { RouteTable, ServeContext } from './route-types.js';
import { listenSubsonic, subsonicApp } from './server.js';
import { RateLimiter } from './rate-limit.js';
import { systemRoutes } from './system-routes.js';
import { browseRoutes } from './browse-routes.js';
import { mediaRoutes } from './media-routes.js';
import { playlistRoutes } from './playlist-routes.js';
import { annotationRoutes } from './annotation-routes.js';
import { ServeUsers } from '../state/serve-users.js';
import { listenUrl, type ListenAddress } from '../config/listen-address.js';
import { CratesyncError } from '../errors.js';

/** Every method the server answers: one table per module (see route-types.ts); a method in two tables stops the app at start. */
export const ROUTES: readonly RouteTable[] = [systemRoutes, browseRoutes, mediaRoutes, playlistRoutes, annotationRoutes];

/** PEM files for HTTPS: paths, read when the server starts. */
export interface TlsFiles {
  cert: string;
  key: string;
}

/** TLS files as read: their PEM text, and their names for messages. */
export interface LoadedTls {
  cert: Buffer;
  key: Buffer;
  files: TlsFiles;
}

/**
 * loadTls reads the TLS files (before anything else is opened: a typo in a
 * path is said at once). Throws CratesyncError naming the file it cannot read.
 */
export async function loadTls(files: TlsFiles): Promise<LoadedTls> {
  return { cert: await readPem(files.cert, 'certificate'), key: await readPem(files.key, 'private key'), files };
}

export interface StartOptions {
  listen: ListenAddress;
  /** HTTPS with these (see loadTls); plain HTTP without. */
  tls?: LoadedTls;
  /** The file the users' passwords are sealed with (config/paths.ts serveKeyFile). */
  keyFile: string;
  log: Logger;
  /** Default {@link ROUTES}. */
  routes?: readonly RouteTable[];
}

export interface RunningServer {
  /** What apps are pointed at: `http://127.0.0.1:4533`. */
  url: string;
  host: string;
  /** The port listened on (the one the system chose for port 0). */
  port: number;
  tls: boolean;
  /** How many users may log in (none: nobody can use the server yet). */
  users: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * startSubsonicServer listens on `o.listen` with the users kept in the
 * context's state. Throws CratesyncError naming the address when it cannot
 * be listened on (taken, not this machine's, not allowed), and the files
 * when they are no usable certificate and key.
 */
export async function startSubsonicServer(serve: ServeContext, o: StartOptions): Promise<RunningServer> {
  const tls = o.tls ? { cert: o.tls.cert, key: o.tls.key } : undefined;
  const users = new ServeUsers(serve.db, o.keyFile);
  const app = subsonicApp(serve, { users, limiter: new RateLimiter(), log: o.log, routes: [...(o.routes ?? ROUTES)] });
  const { host, port } = o.listen;
  let listener: Awaited<ReturnType<typeof listenSubsonic>>;
  try {
    listener = await listenSubsonic(app, { host, port, ...(tls ? { tls } : {}) });
  } catch (err) {
    throw listenError(err, o.listen, o.tls?.files);
  }
  return {
    url: listenUrl(host, listener.port, tls !== undefined),
    host,
    port: listener.port,
    tls: tls !== undefined,
    users: users.list().length,
    close: () => listener.close(),
  };
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' || code === 'EPERM' ? 'permission denied' : (err as Error).message;
    throw new CratesyncError(`${file}: cannot read the TLS ${what}: ${why}`, { cause: err });
  }
}

/** listenError says in one line why `at` could not be listened on. */
function listenError(err: unknown, at: ListenAddress, tls: TlsFiles | undefined): CratesyncError {
  const where = at.host.includes(':') ? `[${at.host}]:${at.port}` : `${at.host}:${at.port}`;
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EADDRINUSE'
      ? 'the port is taken (another server, or a service already serving?)'
      : code === 'EADDRNOTAVAIL'
        ? 'that address is not one of this machine'
        : code === 'EACCES'
          ? 'not allowed (ports below 1024 need privileges)'
          : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
            ? 'no such host'
            : tls && (String(code).startsWith('ERR_OSSL') || /PEM|certificate|key/i.test((err as Error).message ?? ''))
              ? `the TLS files ${tls.cert} and ${tls.key} are not a usable certificate and key (${firstLine(err)})`
              : firstLine(err);
  return new CratesyncError(`cannot serve on ${where}: ${why}`, { cause: err });
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
