/** The service's settings from the config file (and the global flags), as service.ts takes them. */
import type { Context } from './context.js';
import type { ServiceSettings } from '../service/service.js';
import { DEFAULT_SETTINGS } from '../service/service.js';
import { parseDuration } from '../config/duration.js';
import { parseMaxDelete } from '../sync/delete-limit.js';
import { webhookFrom } from '../share/notify.js';
import { describe } from '../errors.js';
import { DEFAULT_LISTEN, parseListen } from '../config/listen-address.js';
import { coversDirOf, expandHome, serveKeyFile, stateDbFile } from '../config/paths.js';
import { libraryRoot, userName } from './context.js';

export function serviceSettings(ctx: Context): ServiceSettings {
  const c = ctx.config;
  const s = c.service ?? {};
  const ms = (v: string | undefined, dflt: number) => (v === undefined ? dflt : (parseDuration(v) ?? dflt));
  return {
    filter: {
      ...(c.extensions ? { extensions: c.extensions } : {}),
      include: c.include ?? [],
      exclude: c.exclude ?? [],
    },
    transfers: c.transfers ?? DEFAULT_SETTINGS.transfers,
    mode: s.mode ?? 'push',
    delete: s.delete ?? false,
    maxDelete: parseMaxDelete(c.maxDelete, `maxDelete in ${ctx.configFile}`),
    pullIntervalMs: ms(s.pullInterval, DEFAULT_SETTINGS.pullIntervalMs),
    rescanIntervalMs: ms(s.rescanInterval, DEFAULT_SETTINGS.rescanIntervalMs),
    quietMs: ms(s.quiet, DEFAULT_SETTINGS.quietMs),
    ...webhook(c.notify?.webhook),
    ...(c.serve?.enabled ? { serve: serveSettings(ctx) } : {}),
  };
}

/** The Subsonic server's settings from the config's `serve` (its schema checked listen and the TLS pair). */
function serveSettings(ctx: Context): NonNullable<ServiceSettings['serve']> {
  const s = ctx.config.serve ?? {};
  return {
    listen: parseListen(s.listen ?? DEFAULT_LISTEN),
    ...(s.tlsCert !== undefined && s.tlsKey !== undefined ? { tls: { cert: expandHome(s.tlsCert), key: expandHome(s.tlsKey) } } : {}),
    keyFile: serveKeyFile(ctx.paths),
    coversDir: coversDirOf(stateDbFile(ctx.paths, libraryRoot(ctx, undefined))),
    crewUser: userName(ctx),
  };
}

/** The webhook from CRATESYNC_WEBHOOK or the config; a bad variable is a warning, never a service that does not start. */
function webhook(configured: string | undefined): Pick<ServiceSettings, 'webhook' | 'webhookProblem'> {
  try {
    const url = webhookFrom(configured);
    return url ? { webhook: url } : {};
  } catch (err) {
    return { webhookProblem: describe(err) };
  }
}
