/**
 * What every command needs before it starts: the global options, the config
 * file, and from those the library folder and remote it works on. Arguments
 * win over the config, the config over built-in defaults.
 */
import { userInfo } from 'node:os';
import { appPaths, defaultRemoteDir, expandHome, type AppPaths } from '../config/paths.js';
import { loadConfig, type Config } from '../config/config.js';
import { UsageError } from '../errors.js';
import type { OpenRemoteOptions } from '../remote/remote-url.js';

export interface GlobalOptions {
  config?: string;
  user?: string;
  endpoint?: string;
  profile?: string;
  json?: boolean;
  verbose?: boolean;
}

export interface Context {
  global: GlobalOptions;
  paths: AppPaths;
  configFile: string;
  config: Config;
}

export async function loadContext(global: GlobalOptions): Promise<Context> {
  const paths = appPaths();
  const configFile = global.config ? expandHome(global.config) : paths.configFile;
  const config = await loadConfig(configFile, Boolean(global.config));
  return { global, paths, configFile, config };
}

/**
 * libraryRoot is the absolute library folder from the argument or the config
 * (whether it exists is the library session's to check). Throws UsageError
 * when there is none.
 */
export function libraryRoot(ctx: Context, arg: string | undefined): string {
  const given = arg ?? ctx.config.library;
  if (!given) throw new UsageError('no library folder: give one (cratesync push ~/Music) or set one with cratesync init --library DIR');
  return expandHome(given);
}

/** remoteUrl is the remote from the argument, the config, or the embedded default folder. */
export function remoteUrl(ctx: Context, arg: string | undefined): string {
  return arg ?? ctx.config.remote ?? defaultRemoteDir(ctx.paths);
}

/** remoteOptions gathers what opening a remote needs from flags and config. */
export function remoteOptions(ctx: Context, url: string, transfers?: number): OpenRemoteOptions {
  const endpoint = ctx.global.endpoint ?? ctx.config.endpoint;
  const profile = ctx.global.profile ?? ctx.config.profile;
  return {
    ...(endpoint ? { endpoint, endpointFrom: ctx.global.endpoint ? '--endpoint' : `endpoint in ${ctx.configFile}` } : {}),
    ...(profile ? { profile } : {}),
    ...(ctx.config.region ? { region: ctx.config.region } : {}),
    ...(transfers ? { transfers } : {}),
    createRoot: url === defaultRemoteDir(ctx.paths),
  };
}

/** userName is who this machine writes as: --user, the config, or the login name reduced to what a name may hold. */
export function userName(ctx: Context): string {
  const given = ctx.global.user ?? ctx.config.user;
  if (given) return given;
  const name = userInfo().username.replace(/[^\p{L}\p{N}._-]+/gu, '_').slice(0, 64);
  return name || 'dj';
}
