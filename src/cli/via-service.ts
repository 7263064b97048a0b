/**
 * The CLI as a client of a running service: while a service holds a library,
 * `push`, `pull` and `sync` on it ask the service to do the run and show its
 * progress as if it ran here; `status` says that the service runs.
 */
import type { Context } from './context.js';
import type { Io } from './io.js';
import type { RunRequest, ServiceStatus } from '../service/control.js';
import type { RunEvent } from '../sync/events.js';
import type { RunSummary } from '../sync/run-summary.js';
import { stateDbFile } from '../config/paths.js';
import { servicePointedBy } from '../service/library-pointer.js';
import { openRemote } from '../remote/remote-url.js';
import { CratesyncError, ExitCode } from '../errors.js';
import { libraryRoot, remoteOptions, remoteUrl } from './context.js';
import { ServiceClient } from './service-client.js';
import { makeDisplay } from './progress.js';

/** serviceOf is a client of the service that holds `library` (argument or config), when one runs. */
export async function serviceOf(ctx: Context, library: string | undefined): Promise<ServiceClient | undefined> {
  const dir = servicePointedBy(stateDbFile(ctx.paths, libraryRoot(ctx, library)));
  return dir ? ServiceClient.find(dir) : undefined;
}

/** What a run done by the service came to: its summary, or why there is none. */
export interface ServiceRunOutcome {
  summary?: RunSummary;
  error?: string;
  /** The user stopped following (Ctrl-C); the service goes on. */
  detached?: boolean;
}

/**
 * runViaService asks the service behind `client` for the run `req`, shows its
 * progress on stderr as a local run would, and resolves once it has ended.
 * Throws CratesyncError when the remote asked for is not the service's.
 */
export async function runViaService(
  ctx: Context,
  io: Io,
  signal: AbortSignal,
  client: ServiceClient,
  remoteArg: string | undefined,
  req: RunRequest,
): Promise<{ outcome: ServiceRunOutcome; status: ServiceStatus }> {
  const status = await client.status();
  const url = remoteUrl(ctx, remoteArg);
  const remote = await openRemote(url, remoteOptions(ctx, url));
  const wanted = remote.url;
  await remote.close();
  if (wanted !== status.remote) {
    throw new CratesyncError(
      `a cratesync service (pid ${status.pid}, port ${client.info.port}) holds ${status.library} and syncs it with ${status.remote}, not ${wanted}; stop it first (cratesync service stop --config ${status.configFile})`,
    );
  }
  io.stderr.write(`a cratesync service (pid ${status.pid}) holds this library: it does the ${req.direction}${status.state === 'paused' ? ' once it is resumed (it is paused)' : ''}\n`);
  const display = makeDisplay(io.stderr, { quiet: Boolean(ctx.global.json), verbose: Boolean(ctx.global.verbose) });
  const accepted = await client.run(req);
  const outcome: ServiceRunOutcome = {};
  try {
    await client.follow(
      accepted.since,
      (e) => {
        if (e.type === 'run' && e.event.runId === accepted.runId) display.listener(e.event as RunEvent);
        if (e.type === 'run-result' && e.runId === accepted.runId) {
          if (e.summary) outcome.summary = e.summary;
          if (e.error) outcome.error = e.error;
          return true;
        }
        if (e.type === 'stopping') {
          outcome.error = 'the service stopped before the run ended';
          return true;
        }
        return false;
      },
      signal,
    );
  } finally {
    display.close();
  }
  if (signal.aborted) outcome.detached = true;
  return { outcome, status };
}

/** exitOf is the exit code of a run the service did, as for a local one. */
export function exitOf(o: ServiceRunOutcome): number {
  if (o.detached) return ExitCode.Interrupted;
  if (!o.summary) return ExitCode.Failed;
  return o.summary.failed > 0 || o.summary.problems > 0 ? ExitCode.Partial : ExitCode.Ok;
}
