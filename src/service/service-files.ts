/**
 * The service's folder (config/paths.ts serviceDir: one per config file):
 * the lock that keeps one service per config, the control token only the
 * user can read, and service.json, which tells clients where the service
 * listens. service.json holds no secret; the token lives in its own file.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { CratesyncError } from '../errors.js';
import { acquirePidLock, pidAlive } from '../state/run-lock.js';

/** Where a running service can be reached, and what it serves. */
export interface ServiceInfo {
  pid: number;
  port: number;
  /** ms since the epoch */
  startedAt: number;
  configFile: string;
  library: string;
  version: string;
}

const serviceInfoSchema = z.object({
  pid: z.number().int().positive(),
  port: z.number().int().min(1).max(65535),
  startedAt: z.number(),
  configFile: z.string(),
  library: z.string(),
  version: z.string(),
});

export const LOCK_FILE = 'lock';
export const TOKEN_FILE = 'token';
export const INFO_FILE = 'service.json';

/** ensureServiceDir creates `dir` (and its parents) and makes it private to the user (0700). */
export function ensureServiceDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // mkdir's mode applies only to a folder it creates; one left by an older version may be wider.
  if (process.platform !== 'win32') chmodSync(dir, 0o700);
}

/**
 * acquireServiceLock makes this process the one service of the config whose
 * folder is `dir`, taking over a lock whose owner died. Throws CratesyncError
 * naming the running service (pid, port) when one holds it. The release
 * removes service.json, the token and the lock.
 */
export function acquireServiceLock(dir: string, configFile?: string): () => void {
  ensureServiceDir(dir);
  const lock = join(dir, LOCK_FILE);
  const release = acquirePidLock(lock, (pid) => {
    const info = readServiceInfo(dir);
    const port = info?.pid === pid ? `port ${info.port}` : 'port not known yet';
    const config = configFile ?? info?.configFile ?? dir;
    return `a cratesync service already runs for ${config} (pid ${pid}, ${port}); stop it with cratesync service stop (if none runs, delete ${lock})`;
  });
  return () => {
    rmSync(join(dir, INFO_FILE), { force: true });
    rmSync(join(dir, TOKEN_FILE), { force: true });
    release();
  };
}

/**
 * createToken writes a new random control token (32 bytes, base64url) to
 * `<dir>/token`, created with mode 0600 so that it is never readable by
 * others, not even for a moment, and returns it.
 */
export function createToken(dir: string): string {
  ensureServiceDir(dir);
  const token = randomBytes(32).toString('base64url');
  const tmp = join(dir, `.${TOKEN_FILE}.${process.pid}.tmp`);
  rmSync(tmp, { force: true });
  writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(tmp, join(dir, TOKEN_FILE));
  return token;
}

/** readToken reads the control token of the service in `dir`; throws CratesyncError naming the file when it cannot. */
export function readToken(dir: string): string {
  const file = join(dir, TOKEN_FILE);
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new CratesyncError(`${file}: cannot read the service token: ${(err as Error).message}`, { cause: err });
  }
  if (!/^[A-Za-z0-9_-]{16,256}$/.test(token)) throw new CratesyncError(`${file}: not a service token`);
  return token;
}

/** writeServiceInfo replaces `<dir>/service.json` atomically (a reader sees the old or the new one, never half). */
export function writeServiceInfo(dir: string, info: ServiceInfo): void {
  ensureServiceDir(dir);
  const tmp = join(dir, `.${INFO_FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(serviceInfoSchema.parse(info), null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, join(dir, INFO_FILE));
}

/** readServiceInfo reads `<dir>/service.json`; undefined when it is missing or not valid (never throws). */
export function readServiceInfo(dir: string): ServiceInfo | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, INFO_FILE), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const r = serviceInfoSchema.safeParse(JSON.parse(text));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** liveService is the service.json of `dir` when its process still lives; undefined for none or a stale file. */
export function liveService(dir: string): ServiceInfo | undefined {
  const info = readServiceInfo(dir);
  return info && pidAlive(info.pid) ? info : undefined;
}
