/**
 * Running push, pull, sync or status for the command line: through a service
 * that holds the library, else here with the engine; printing the result.
 */
import type { Context } from '../context.js';
import type { Io } from '../io.js';
import type { Direction, Reason } from '../../sync/plan.js';
import { runSync, type SyncResult } from '../../sync/engine.js';
import { makeFilter } from '../../library/filter.js';
import { parseTransfers } from '../options.js';
import { parseMaxDelete } from '../../sync/delete-limit.js';
import { makeDisplay } from '../progress.js';
import { withSession } from '../session.js';
import { ExitCode } from '../../errors.js';
import { formatBytes, formatCount, formatDuration } from '../format.js';
import { renderPlan, renderStatus, resultJson, type ServiceBrief } from '../report.js';
import { summarize, type RunSummary } from '../../sync/run-summary.js';
import { reasonText } from '../describe-action.js';
import type { RunRequest } from '../../service/control.js';
import type { ServiceClient } from '../service-client.js';
import { exitOf, runViaService, serviceOf } from '../via-service.js';
import { printable } from '../format.js';
import { afterPush } from '../after-push.js';
import { PlayerState } from '../../state/player-state.js';
import { takeIntake } from '../../player/player-intake.js';
import { publishPlayers } from '../player-output.js';
import { afterPull } from '../after-pull.js';

export interface SyncFlags {
  include?: string[];
  exclude?: string[];
  transfers?: string;
  dryRun?: boolean;
  delete?: boolean;
  maxDelete?: string;
  full?: boolean;
  /** Only these library paths (a pull of some playlists' tracks); not a flag. */
  paths?: string[];
}

/**
 * syncCommand runs push, pull, sync or status as the command line does
 * (through a service that holds the library, else here), prints the result
 * and resolves to the exit code.
 */
export async function syncCommand(
  ctx: Context,
  io: Io,
  signal: AbortSignal,
  command: Direction | 'status',
  library: string | undefined,
  remoteArg: string | undefined,
  flags: SyncFlags,
  /** cratesync's version, recorded in the users registry after a push. */
  version?: string,
): Promise<number> {
  const json = Boolean(ctx.global.json);
  const transfers = parseTransfers(flags.transfers) ?? ctx.config.transfers ?? 16;
  const maxDelete = parseMaxDelete(flags.maxDelete ?? ctx.config.maxDelete);
  const filter = makeFilter({
    ...(ctx.config.extensions ? { extensions: ctx.config.extensions } : {}),
    include: [...(ctx.config.include ?? []), ...(flags.include ?? [])],
    exclude: [...(ctx.config.exclude ?? []), ...(flags.exclude ?? [])],
    ...(flags.paths ? { paths: flags.paths } : {}),
  });
  const readOnly = Boolean(flags.dryRun);
  // A first pull (or sync) onto a new machine makes the library folder, as aws s3 sync and rclone do.
  const createRoot = command === 'pull' || command === 'sync';
  // A service that holds the library does the run (it holds the run lock).
  const service = await serviceOf(ctx, library);
  if (service && !readOnly && command !== 'status') {
    const req: RunRequest = {
      direction: command,
      delete: Boolean(flags.delete),
      full: Boolean(flags.full),
      ...(flags.maxDelete !== undefined ? { maxDelete: flags.maxDelete } : {}),
      ...(flags.include ? { include: flags.include } : {}),
      ...(flags.exclude ? { exclude: flags.exclude } : {}),
      ...(flags.paths ? { paths: flags.paths } : {}),
      ...(flags.transfers !== undefined ? { transfers } : {}),
    };
    const { outcome, status } = await runViaService(ctx, io, signal, service, remoteArg, req);
    if (json) io.stdout.write(`${JSON.stringify({ command, library: status.library, remote: status.remote, byService: { pid: status.pid }, ...outcome })}\n`);
    else if (outcome.summary) io.stdout.write(`${summaryLine(command, outcome.summary)}\n`);
    else if (outcome.detached) io.stderr.write('no longer following: the service goes on with the run (cratesync service status)\n');
    else io.stderr.write(`cratesync: the service's ${command} did not run: ${printable(outcome.error ?? 'no result')}\n`);
    return exitOf(outcome);
  }
  return withSession(ctx, { library, remote: remoteArg, transfers, readOnly, createRoot }, async ({ session, remote }) => {
    const root = session.root;
    // Without a service, a push or sync takes the attached players' queues: their files are in this run's walk.
    const players = !readOnly && command !== 'pull' && new PlayerState(session.db).count() > 0;
    const intakes = players ? await takeIntake(session.db, root) : [];
    const display = makeDisplay(io.stderr, { quiet: json, verbose: Boolean(ctx.global.verbose) });
    let result: SyncResult;
    try {
      result = await runSync(session, {
        direction: command === 'status' ? 'sync' : command,
        remote,
        filter,
        delete: Boolean(flags.delete),
        maxDelete,
        dryRun: readOnly,
        transfers,
        full: Boolean(flags.full),
        listeners: [display.listener],
        signal,
      });
    } finally {
      display.close();
    }
    if (result.exec && (command === 'pull' || command === 'sync') && !signal.aborted && !result.exec.fatal) {
      await afterPull(io, session, remote, result, json, signal);
    }
    const brief = service && command === 'status' ? await serviceBrief(service) : undefined;
    const where = { library: root, remote: remote.url, ...(brief ? { service: brief } : {}) };
    if (json) {
      // In pieces, each taken before the next is made: a plan of a whole library is tens of megabytes as text.
      for (const chunk of resultJson(command, where, result, Boolean(ctx.global.verbose))) {
        io.stdout.write(chunk);
        await io.stdout.drained?.();
      }
    } else if (command === 'status') {
      io.stdout.write(renderStatus(where, result));
      if (brief) io.stdout.write(`a cratesync service runs for this library (pid ${brief.pid}): ${brief.state}${brief.reason ? ` (${printable(brief.reason)})` : ''}, ${formatCount(brief.queue)} queued\n`);
    } else if (flags.dryRun) {
      io.stdout.write(renderPlan(result.plan, Boolean(ctx.global.verbose)));
      io.stdout.write(`${summaryLine(command, summarize(command, result))}\n`);
    } else {
      io.stdout.write(`${summaryLine(command, summarize(command, result))}\n`);
    }
    let playerCode: number = ExitCode.Ok;
    if (result.exec && (command === 'push' || command === 'sync') && !signal.aborted && !result.exec.fatal) {
      if (players) playerCode = await publishPlayers(ctx, io, signal, session, remote, intakes);
      await afterPush(ctx, io, session, remote, result, version);
    }
    if (signal.aborted) return ExitCode.Interrupted;
    if (result.exec?.fatal) return ExitCode.Failed;
    const failed = (result.exec?.failed.length ?? 0) + (flags.dryRun ? result.plan.actions.filter((a) => a.kind === 'error').length : 0);
    return failed > 0 || result.problems.length > 0 || playerCode !== ExitCode.Ok ? ExitCode.Partial : ExitCode.Ok;
  });
}

/** summaryLine is the one line every run ends with. */
export function summaryLine(command: Direction | 'status', r: RunSummary): string {
  const t = r.tally;
  const would = r.dryRun ? 'would be ' : '';
  const parts: string[] = [];
  // push counts uploads, pull downloads, sync and status both.
  const up = command !== 'pull';
  const down = command !== 'push';
  const moves = !r.dryRun
    ? [up && `${formatCount(t.uploaded)} uploaded`, down && `${formatCount(t.downloaded)} downloaded`]
    : [up && `would upload ${formatCount(t.uploaded)}`, down && `${up ? '' : 'would '}download ${formatCount(t.downloaded)}`];
  parts.push(`${moves.filter(Boolean).join(', ')} (${formatBytes(t.bytes)})`);
  if (t.moved) parts.push(`${formatCount(t.moved)} ${would}moved or copied without a transfer`);
  if (t.tagOnly) parts.push(`${formatCount(t.tagOnly)} of them tag-only edits`);
  if (t.conflicts) parts.push(`${formatCount(t.conflicts)} ${t.conflicts === 1 ? 'conflict' : 'conflicts'} (both versions kept)`);
  // A summary from an older service has no count.
  const refreshed = r.refreshed ?? 0;
  parts.push(`${formatCount(r.unchanged)} unchanged`);
  if (refreshed) parts.push(`tags of ${formatCount(refreshed)} ${refreshed === 1 ? 'file' : 'files'} refreshed`);
  if (t.trashed) parts.push(`${formatCount(t.trashed)} ${would}moved to trash`);
  if (!r.dryRun) parts.push(`${formatCount(r.failed)} failed`);
  const skips = Object.entries(r.skipped) as Array<[Reason, number]>;
  const elsewhere = skips.reduce((n, [, k]) => n + k, 0);
  if (elsewhere) parts.push(`${formatCount(elsewhere)} left as they are (${skips.map(([why, n]) => `${formatCount(n)} ${reasonText(why)}`).join(', ')})`);
  if (r.problems) parts.push(`${formatCount(r.problems)} warnings`);
  const secs = r.elapsedMs / 1000;
  const rate = !r.dryRun && r.bytes > 0 && secs > 0 ? `, ${formatBytes(r.bytes / secs)}/s` : '';
  return `${command}: ${parts.join(', ')} in ${formatDuration(r.elapsedMs)}${rate}`;
}

/** serviceBrief is what `status` says of the service that holds the library. */
async function serviceBrief(client: ServiceClient): Promise<ServiceBrief> {
  const st = await client.status();
  return { pid: st.pid, state: st.state, ...(st.reason ? { reason: st.reason } : {}), queue: st.queue.length };
}
