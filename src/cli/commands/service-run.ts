/**
 * `cratesync service run`: the service in the foreground (what systemd and
 * launchd run, and what `service start` starts detached). It takes the
 * service lock of its config, opens the library and remote, serves the
 * control API on 127.0.0.1, and runs until stopped (SIGINT, SIGTERM, or
 * `service stop`). SIGHUP rereads the config.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../context.js';
import type { Io } from '../io.js';
import type { Logger } from '../../service/logger.js';
import { serviceDir, stateDbFile } from '../../config/paths.js';
import { libraryRoot, loadContext, remoteOptions, remoteUrl, userName } from '../context.js';
import { openRemote } from '../../remote/remote-url.js';
import { LibrarySession } from '../../sync/library-session.js';
import { Service } from '../../service/service.js';
import { startControlServer } from '../../service/control-api.js';
import { createLogger, flushLog } from '../../service/logger.js';
import { serviceLogFile } from '../../service/log-files.js';
import { acquireServiceLock, createToken, ensureServiceDir, INFO_FILE, writeServiceInfo } from '../../service/service-files.js';
import { pointService, unpointService } from '../../service/library-pointer.js';
import { describe, ExitCode } from '../../errors.js';
import { serviceSettings } from '../service-settings.js';
import { collectGarbage } from '../memory-policy.js';

export interface ServiceRunOptions {
  /** Log to the rotated file in the service folder instead of stdout (`service start`). */
  detached: boolean;
  version: string;
}

/** runService runs the service of `ctx`'s config until it stops; resolves to the exit code. */
export async function runService(ctx: Context, io: Io, signal: AbortSignal, o: ServiceRunOptions): Promise<number> {
  const dir = serviceDir(ctx.paths, ctx.configFile);
  ensureServiceDir(dir);
  const release = acquireServiceLock(dir, ctx.configFile);
  let log: Logger | undefined;
  let stateFile: string | undefined;
  try {
    const settings = serviceSettings(ctx);
    log = await createLogger(o.detached ? { file: serviceLogFile(dir) } : { to: 'stdout' }, ctx.config.service?.logLevel ?? 'info');
    const root = libraryRoot(ctx, undefined);
    const url = remoteUrl(ctx, undefined);
    stateFile = stateDbFile(ctx.paths, root);
    const remote = await openRemote(url, remoteOptions(ctx, url, settings.transfers));
    let session: LibrarySession;
    try {
      // In sync mode a first start on a new machine makes the library folder, as `cratesync sync` does.
      session = await LibrarySession.open({ root, stateFile, user: userName(ctx), mode: 'write', createRoot: settings.mode === 'sync' });
    } catch (err) {
      await remote.close();
      throw err;
    }
    const service = await Service.start({
      session,
      remote,
      configFile: ctx.configFile,
      version: o.version,
      settings,
      loadSettings: async () => serviceSettings(await loadContext(ctx.global)),
      log,
      // A full run of a big library leaves its garbage behind; the idle service gives it back.
      afterFullRun: collectGarbage,
      user: userName(ctx),
    });
    const token = createToken(dir);
    const server = await startControlServer(service, { token, log });
    writeServiceInfo(dir, { pid: process.pid, port: server.port, startedAt: Date.now(), configFile: ctx.configFile, library: root, version: o.version });
    pointService(stateFile, dir);
    log.info({ pid: process.pid, port: server.port, library: root, remote: url, mode: settings.mode }, 'service started');
    const onHup = () => {
      service.reload().catch((err: unknown) => log?.error(`config not reloaded: ${describe(err)}`));
    };
    process.on('SIGHUP', onHup);
    const onStop = () => void service.stop();
    signal.addEventListener('abort', onStop, { once: true });
    try {
      await service.done;
    } finally {
      process.off('SIGHUP', onHup);
      signal.removeEventListener('abort', onStop);
      await server.close();
    }
    return ExitCode.Ok;
  } catch (err) {
    log?.error(describe(err));
    if (!o.detached) throw err;
    io.stderr.write(`cratesync: ${describe(err)}\n`);
    return ExitCode.Failed;
  } finally {
    rmSync(join(dir, INFO_FILE), { force: true });
    if (stateFile) unpointService(stateFile, dir);
    if (log) flushLog(log);
    release();
    // What a stop abandoned (a socket the server never answered) must not keep the process alive.
    setTimeout(() => process.exit(), 2000).unref();
  }
}
