/**
 * Where cratesync keeps its files: the config file in the XDG config
 * directory, state databases and the embedded default remote in the XDG data
 * directory. `CRATESYNC_HOME` puts both under one folder (tests, portable
 * installs).
 */
import envPaths from 'env-paths';
import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { homedir } from 'node:os';

export interface AppPaths {
  configFile: string;
  dataDir: string;
  /** Where services keep their lock, token, port file and logs ($XDG_STATE_HOME/cratesync). */
  stateDir: string;
}

export function appPaths(env: NodeJS.ProcessEnv = process.env): AppPaths {
  const home = env.CRATESYNC_HOME;
  if (home) return { configFile: join(home, 'config.json'), dataDir: join(home, 'data'), stateDir: join(home, 'state') };
  const p = envPaths('cratesync', { suffix: '' });
  return { configFile: join(p.config, 'config.json'), dataDir: p.data, stateDir: p.log };
}

/** The embedded default remote: a plain folder under the data directory. */
export function defaultRemoteDir(paths: AppPaths): string {
  return join(paths.dataDir, 'remote');
}

/** The state database of the library at absolute path `root`: one per library. */
export function stateDbFile(paths: AppPaths, root: string): string {
  const id = createHash('sha256').update(root).digest('hex').slice(0, 12);
  const name = basename(root).replace(/[^\p{L}\p{N}._-]+/gu, '_') || 'library';
  return join(paths.dataDir, 'state', `${name}-${id}.db`);
}

/**
 * The local cover store of the state database `stateFile` (see
 * library/cover-store.ts): `covers/` beside it. Covers are named by their
 * content, so the libraries of one machine share one store.
 */
export function coversDirOf(stateFile: string): string {
  return join(dirname(stateFile), 'covers');
}

/** expandHome turns `~` and `~/x` into paths under the home directory (shells do it, config files do not) and resolves the rest against the cwd. */
export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/') || (sep === '\\' && p.startsWith('~\\'))) return join(homedir(), p.slice(2));
  return resolve(p);
}

/**
 * The state database that knows remote `url` (canonical, as Remote.url) for
 * commands run without a library (`cratesync ls`): one per remote, kept so
 * that a second look reads only what changed since the first.
 */
export function remoteStateDbFile(paths: AppPaths, url: string): string {
  const id = createHash('sha256').update(url).digest('hex').slice(0, 12);
  const name = url.replace(/^[a-z0-9+.-]+:\/+/i, '').replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(-48) || 'remote';
  return join(paths.dataDir, 'state', 'remotes', `${name}-${id}.db`);
}

/**
 * The folder of the service run with config file `configFile` (absolute): one
 * service per config file, so one folder per config file. It holds the
 * service's lock, its control token (mode 0600), its port file and its logs.
 */
export function serviceDir(paths: AppPaths, configFile: string): string {
  const id = createHash('sha256').update(resolve(configFile)).digest('hex').slice(0, 12);
  const name = basename(configFile).replace(/\.json$/i, '').replace(/[^\p{L}\p{N}._-]+/gu, '_') || 'config';
  return join(paths.stateDir, 'service', `${name}-${id}`);
}

/**
 * The key the Subsonic server's user passwords are sealed with
 * (state/serve-users.ts): one per data directory, mode 0600, kept apart from
 * the state databases so that a copy of a database alone opens no password.
 */
export function serveKeyFile(paths: AppPaths): string {
  return join(paths.dataDir, 'serve.key');
}
