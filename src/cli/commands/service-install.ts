/**
 * `cratesync service install | uninstall`: write (or remove) the unit that
 * makes the OS run `cratesync --config <file> service run` at login and
 * restart it when it fails: a systemd user unit on Linux, a launchd agent on
 * macOS. cratesync does not enable it itself; it prints the command that does.
 */
import { Option, type Command } from 'commander';
import { existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceDir } from '../../config/paths.js';
import { CratesyncError, ExitCode, UsageError } from '../../errors.js';
import { launchdPlist, systemdUnit, UNIT_MARKER, unitPlace, type UnitKind, type UnitSpec } from '../../service/unit-files.js';
import type { Context } from '../context.js';
import type { CommandDeps } from '../deps.js';

/** The CLI's own entry script, which the unit runs: beside dist/ when built, beside src/ under tests. */
function binScript(): string {
  for (const rel of ['../../../../bin/cratesync.js', '../../../bin/cratesync.js']) {
    const file = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(file)) return realpathSync(file);
  }
  throw new CratesyncError(`cannot find bin/cratesync.js from ${fileURLToPath(import.meta.url)}`);
}

/** addServiceInstallCommands adds `install` and `uninstall` to the `service` command. */
export function addServiceInstallCommands(service: Command, deps: CommandDeps): void {
  const kind = () => new Option('--kind <kind>', 'systemd or launchd (default: by platform)').choices(['systemd', 'launchd']).hideHelp();
  service
    .command('install')
    .description('write a systemd user unit (Linux) or a launchd agent (macOS) that runs this service at login; prints how to enable it')
    .addOption(kind())
    .action(async (flags: { kind?: UnitKind }, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const r = installUnit(ctx, flags.kind);
      if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else deps.io.stdout.write(`${r.updated ? 'updated' : 'wrote'} ${r.file}\nenable and start it with:\n  ${r.enable}\n`);
      deps.exit(ExitCode.Ok);
    });
  service
    .command('uninstall')
    .description('remove the unit that service install wrote (after printing how to disable it)')
    .addOption(kind())
    .action(async (flags: { kind?: UnitKind }, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const place = unitPlace(unitKind(flags.kind), basename(serviceDir(ctx.paths, ctx.configFile)));
      if (!existsSync(place.file)) {
        if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify({ file: place.file, removed: false }, null, 2)}\n`);
        else deps.io.stdout.write(`no service unit installed for ${ctx.configFile} (${place.file})\n`);
        deps.exit(ExitCode.Ok);
        return;
      }
      if (!readFileSync(place.file, 'utf8').includes(UNIT_MARKER)) {
        throw new CratesyncError(`${place.file} was not written by cratesync service install; leaving it as it is`);
      }
      if (!ctx.global.json) deps.io.stdout.write(`stop and disable it first, if it is enabled:\n  ${place.disable}\n`);
      rmSync(place.file);
      if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify({ file: place.file, removed: true, disable: place.disable }, null, 2)}\n`);
      else deps.io.stdout.write(`removed ${place.file}\n`);
      deps.exit(ExitCode.Ok);
    });
}

function unitKind(flag: UnitKind | undefined): UnitKind {
  if (flag) return flag;
  if (process.platform === 'linux') return 'systemd';
  if (process.platform === 'darwin') return 'launchd';
  throw new UsageError(`service install knows systemd (Linux) and launchd (macOS), not ${process.platform}: run cratesync service run from your own service manager`);
}

/**
 * installUnit writes the unit of `ctx`'s config (replacing one it wrote
 * before). Throws UsageError when there is no config file to run with, and
 * CratesyncError when a file it did not write is in the way.
 */
export function installUnit(ctx: Context, flag?: UnitKind): { kind: UnitKind; file: string; unit: string; enable: string; updated: boolean } {
  const kind = unitKind(flag);
  if (!existsSync(ctx.configFile)) throw new UsageError(`no config file at ${ctx.configFile}: create one with cratesync init first`);
  const place = unitPlace(kind, basename(serviceDir(ctx.paths, ctx.configFile)));
  const spec: UnitSpec = {
    node: process.execPath,
    bin: binScript(),
    // As given, not resolved through links: the service folder is named from this path.
    configFile: ctx.configFile,
    name: basename(serviceDir(ctx.paths, ctx.configFile)),
    // Where cratesync keeps its files, when moved (no credentials ever go in a unit).
    ...(process.env.CRATESYNC_HOME ? { env: { CRATESYNC_HOME: process.env.CRATESYNC_HOME } } : {}),
  };
  const text = kind === 'systemd' ? systemdUnit(spec) : launchdPlist(spec, place.unit);
  const updated = existsSync(place.file);
  if (updated && !readFileSync(place.file, 'utf8').includes(UNIT_MARKER)) {
    throw new CratesyncError(`${place.file} exists and was not written by cratesync service install; leaving it as it is`);
  }
  mkdirSync(dirname(place.file), { recursive: true });
  const tmp = `${place.file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, place.file);
  return { kind, file: place.file, unit: place.unit, enable: place.enable, updated };
}
