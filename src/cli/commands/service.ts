/**
 * `cratesync service …`: run the service in the foreground, start it in the
 * background, and ask a running one how it does or what to do. All but `run`
 * and `start` are clients of its control API (see service-client.ts).
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../context.js';
import type { CommandDeps } from '../deps.js';
import type { ServiceStatus } from '../../service/control.js';
import type { ControlCommand } from '../service-client.js';
import { serviceDir } from '../../config/paths.js';
import { ensureServiceDir, liveService } from '../../service/service-files.js';
import { CratesyncError, ExitCode } from '../../errors.js';
import { ServiceClient } from '../service-client.js';
import { formatBytes, formatCount, formatDuration, printable } from '../format.js';
import { addServiceLogsCommand } from './service-logs.js';
import { addServiceInstallCommands } from './service-install.js';

/** How long `service start` waits for the service to answer. */
const START_WAIT_MS = 30_000;
/** How long `service stop` waits for the process to end. */
const STOP_WAIT_MS = 30_000;

/** The exit code of `service status` when no service runs (as LSB init scripts say "not running"). */
const NOT_RUNNING = 3;

export function addServiceCommands(program: Command, deps: CommandDeps, version: string): void {
  const { io } = deps;
  const service = program.command('service').description('the service that keeps the library in sync as it changes (one per config file)');

  service
    .command('run')
    .description('run the service in the foreground, logging JSON lines to stdout (what systemd and launchd run)')
    .addOption(hiddenDetached(service))
    .action(async (flags: { detached?: boolean }, cmd: Command) => {
      // Loaded here: the service's own modules (its HTTP server, logger, watcher) would slow every other command's start.
      const { runService } = await import('./service-run.js');
      deps.exit(await runService(await deps.ctxFor(cmd), io, deps.signal, { detached: Boolean(flags.detached), version }));
    });

  service
    .command('start')
    .description('start the service in the background, unless one already runs for this config')
    .action(async (_flags: unknown, cmd: Command) => {
      deps.exit(await startService(await deps.ctxFor(cmd), deps));
    });

  service
    .command('status')
    .description('what the service is doing: state, queue, transfers in flight, last errors, totals')
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const client = await ServiceClient.find(serviceDir(ctx.paths, ctx.configFile));
      if (!client) {
        if (ctx.global.json) io.stdout.write(`${JSON.stringify({ running: false, configFile: ctx.configFile })}\n`);
        else io.stdout.write(`no cratesync service runs for ${ctx.configFile} (start one with cratesync service start)\n`);
        deps.exit(NOT_RUNNING);
        return;
      }
      const st = await client.status();
      io.stdout.write(ctx.global.json ? `${JSON.stringify({ running: true, ...st }, null, 2)}\n` : renderServiceStatus(st));
      deps.exit(ExitCode.Ok);
    });

  const simple: Array<[string, ControlCommand, string, string]> = [
    ['pause', '/api/pause', 'pause: stop the run under way and start none until resume (changes are still queued)', 'paused'],
    ['resume', '/api/resume', 'resume after pause', 'resumed'],
    ['rescan', '/api/rescan', 'scan the whole library (and the remote) now', 'full rescan queued'],
    ['reload', '/api/reload', 'reread the config file (include/exclude, transfers, mode, intervals); as SIGHUP does', 'config reloaded'],
  ];
  for (const [name, route, description, done] of simple) {
    service
      .command(name)
      .description(description)
      .action(async (_flags: unknown, cmd: Command) => {
        const client = await mustFind(await deps.ctxFor(cmd));
        await client.post(route);
        io.stdout.write(`${done}\n`);
        deps.exit(ExitCode.Ok);
      });
  }

  service
    .command('stop')
    .description('stop the service gracefully: transfers in flight finish or are abandoned cleanly')
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const dir = serviceDir(ctx.paths, ctx.configFile);
      const client = await ServiceClient.find(dir);
      if (!client) {
        io.stdout.write(`no cratesync service runs for ${ctx.configFile}\n`);
        deps.exit(ExitCode.Ok);
        return;
      }
      await client.post('/api/stop');
      const deadline = Date.now() + STOP_WAIT_MS;
      while (liveService(dir)?.pid === client.info.pid && Date.now() < deadline) await sleep(100);
      if (liveService(dir)?.pid === client.info.pid) throw new CratesyncError(`the cratesync service (pid ${client.info.pid}) did not stop within ${STOP_WAIT_MS / 1000} s`);
      io.stdout.write(`stopped (pid ${client.info.pid})\n`);
      deps.exit(ExitCode.Ok);
    });

  addServiceLogsCommand(service, deps);
  addServiceInstallCommands(service, deps);
  for (const c of service.commands) c.exitOverride().configureOutput(program.configureOutput());
}

function hiddenDetached(service: Command) {
  return service.createOption('--detached', 'log to the service folder instead of stdout (used by service start)').hideHelp();
}

async function mustFind(ctx: Context): Promise<ServiceClient> {
  const client = await ServiceClient.find(serviceDir(ctx.paths, ctx.configFile));
  if (!client) throw new CratesyncError(`no cratesync service runs for ${ctx.configFile} (start one with cratesync service start)`);
  return client;
}

/**
 * startService starts `service run --detached` in the background with the
 * same config and global flags, and waits until it answers. What it says on
 * stderr before that (a bad config, a library it cannot open) is shown.
 * `say` gets the line for the user (stdout by default). Throws
 * CratesyncError when the service does not start or does not answer.
 */
export async function startService(ctx: Context, deps: CommandDeps, say: (line: string) => void = (line) => deps.io.stdout.write(line)): Promise<number> {
  const dir = serviceDir(ctx.paths, ctx.configFile);
  const running = await ServiceClient.find(dir);
  if (running) {
    say(`a cratesync service already runs for ${ctx.configFile} (pid ${running.info.pid}, port ${running.info.port})\n`);
    return ExitCode.Ok;
  }
  ensureServiceDir(dir);
  const errFile = join(dir, 'start.err');
  const err = openSync(errFile, 'w', 0o600);
  const g = ctx.global;
  const args = [
    fileURLToPath(new URL('../../../../bin/cratesync.js', import.meta.url)),
    '--config',
    ctx.configFile,
    ...(g.user ? ['--user', g.user] : []),
    ...(g.endpoint ? ['--endpoint', g.endpoint] : []),
    ...(g.profile ? ['--profile', g.profile] : []),
    'service',
    'run',
    '--detached',
  ];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'ignore', err] });
  closeSync(err);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      const said = readFileSync(errFile, 'utf8').trim().split('\n').filter(Boolean).at(-1) ?? `it exited with code ${exited}`;
      throw new CratesyncError(`the service did not start: ${said.replace(/^cratesync: /, '')}`);
    }
    const client = await ServiceClient.find(dir);
    if (client && client.info.pid === child.pid) {
      try {
        await client.health();
        say(`started the cratesync service (pid ${client.info.pid}, port ${client.info.port}); its log: cratesync service logs -f\n`);
        return ExitCode.Ok;
      } catch {
        // Not listening yet.
      }
    }
    await sleep(100);
  }
  throw new CratesyncError(`the service (pid ${child.pid}) did not answer within ${START_WAIT_MS / 1000} s; see cratesync service logs`);
}

/** subsonicLine is the Subsonic server's part of `service status`. */
function subsonicLine(s: NonNullable<ServiceStatus['subsonic']>): string {
  if (s.state === 'serving' && s.url) return `serving at ${s.url}`;
  if (s.state === 'error') return `not serving: ${printable(s.error ?? 'unknown error')}`;
  return 'starting (indexing the catalog)';
}

/** renderServiceStatus is `service status` for people. */
function renderServiceStatus(s: ServiceStatus): string {
  const lines: string[] = [];
  const up = formatDuration(Date.now() - s.startedAt);
  lines.push(`cratesync service: ${s.state}${s.reason ? ` (${printable(s.reason)})` : ''}`);
  lines.push(`  pid ${s.pid}, up ${up}, version ${s.version}, mode ${s.mode}`);
  lines.push(`  library  ${printable(s.library)}`);
  lines.push(`  remote   ${printable(s.remote)}`);
  lines.push(`  queue    ${formatCount(s.queue.length)} waiting${s.queue.failing ? `, ${formatCount(s.queue.failing)} failing` : ''}`);
  for (const f of s.queue.failures) lines.push(`    ${printable(f.path)}: ${printable(f.reason)} (attempt ${f.attempts}, again in ${formatDuration(Math.max(0, f.retryAt - Date.now()))})`);
  lines.push(`  watcher  ${s.watcher.state}${s.watcher.warning ? `: ${printable(s.watcher.warning)}` : ''}`);
  if (s.subsonic) lines.push(`  subsonic ${subsonicLine(s.subsonic)}`);
  for (const p of s.players ?? []) {
    const problems = p.problems ? `, ${formatCount(p.problems)} problems (cratesync players)` : '';
    lines.push(`  player   ${p.name}: ${p.health}, ${formatCount(p.songs)} songs${problems}${p.note ? ` — ${printable(p.note)}` : ''}`);
  }
  if (s.run) {
    const r = s.run;
    lines.push(`  run      ${r.direction} ${r.runId}, ${r.phase}: ${formatCount(r.files.done)} of ${formatCount(r.files.total)} files, ${formatBytes(r.bytes.done)} of ${formatBytes(r.bytes.total)}`);
    for (const t of r.transfers) lines.push(`    ${t.kind.padEnd(11)} ${printable(t.path)}  ${formatBytes(t.bytes)} of ${formatBytes(t.size)}`);
  }
  lines.push(`  last sync ${s.lastSyncAt ? `${formatDuration(Date.now() - s.lastSyncAt)} ago` : 'none yet'}`);
  const t = s.totals;
  lines.push(`  since start: ${formatCount(t.runs)} runs, ${formatCount(t.uploaded)} uploaded, ${formatCount(t.downloaded)} downloaded, ${formatCount(t.moved)} moved, ${formatCount(t.trashed)} trashed, ${formatCount(t.failed)} failed, ${formatBytes(t.bytes)}`);
  if (s.lastErrors.length) {
    lines.push('  last errors:');
    for (const e of s.lastErrors) lines.push(`    ${new Date(e.at).toISOString().slice(11, 19)} ${printable(e.path)}: ${printable(e.reason)}`);
  }
  return `${lines.join('\n')}\n`;
}
