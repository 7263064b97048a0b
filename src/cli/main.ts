/**
 * The command line: global options, the commands, and the one place where
 * errors become a one-line message and an exit code.
 */
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { setMaxListeners } from 'node:events';
import type { GlobalOptions } from './context.js';
import { loadContext } from './context.js';
import { processIo, type Io } from './io.js';
import { addSyncCommands } from './commands/sync-commands.js';
import { addInitCommand } from './commands/init.js';
import { addTrashCommands } from './commands/trash.js';
import { addLsCommand } from './commands/ls.js';
import { addCatalogCommands } from './commands/catalog.js';
import { addServiceCommands } from './commands/service.js';
import { addCollectionCommands } from './commands/collection.js';
import { addUserCommands } from './commands/user.js';
import { addPlayerCommands } from './commands/players.js';
import { addDashboardCommand } from './commands/dashboard.js';
import { addServeCommands } from './commands/serve.js';
import { CratesyncError, describe, ExitCode } from '../errors.js';
import { printable } from './format.js';

const HELP_AFTER = `
Exit codes: 0 all done, 1 partly done (some files failed; see the summary),
2 nothing done (bad arguments or config, remote unreachable, access denied,
delete limit), 130 interrupted (a re-run continues).`;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * main runs the CLI with `argv` (as process.argv: node, script, args…) and
 * resolves to the exit code. It never throws.
 */
export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = ExitCode.Ok;
  let verbose = argv.includes('--verbose');
  const interrupt = new AbortController();
  setMaxListeners(0, interrupt.signal);
  const onSignal = () => {
    if (interrupt.signal.aborted) process.exit(ExitCode.Interrupted);
    io.stderr.write('\ninterrupted: finishing files in flight (Ctrl-C again to quit now)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const program = new Command('cratesync').description('Keep a music library in sync with S3-compatible storage you own, or a plain folder.');
  // `collection … --version V` names a kept version: there the program's own
  // --version (which commander would take wherever it stands) is not defined.
  if (subcommand(argv) !== 'collection') program.version(version());
  program
    .option('--config <file>', 'config file (default: $XDG_CONFIG_HOME/cratesync/config.json)')
    .option('--user <name>', 'your name in a crew')
    .option('--endpoint <url>', 'S3 endpoint for non-AWS servers (or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)')
    .option('--profile <name>', 'AWS profile for credentials (or AWS_PROFILE)')
    .option('--json', 'print results as JSON on stdout')
    .option('--verbose', 'more detail, and stack traces of unexpected errors')
    .addHelpText('after', HELP_AFTER)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run cratesync --help for usage)');

  const deps = {
    io,
    version: version(),
    signal: interrupt.signal,
    exit: (c: number) => {
      code = c;
    },
    ctxFor: (cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      verbose = Boolean(g.verbose);
      return loadContext(g);
    },
  };
  addInitCommand(program, deps);
  addSyncCommands(program, deps);
  addTrashCommands(program, deps);
  addLsCommand(program, deps);
  addCatalogCommands(program, deps);
  addServiceCommands(program, deps, deps.version);
  addUserCommands(program, deps);
  addCollectionCommands(program, deps);
  addPlayerCommands(program, deps);
  addDashboardCommand(program, deps);
  addServeCommands(program, deps);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());

  try {
    await program.parseAsync(argv);
  } catch (err) {
    code = exitFor(err, io, verbose);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return code;
}

/** Global options that take a value, skipped when looking for the subcommand. */
const VALUED = new Set(['--config', '--user', '--endpoint', '--profile']);

/** subcommand is the first word of `argv` (as process.argv) that is no option or option value. */
function subcommand(argv: readonly string[]): string | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (VALUED.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return undefined;
}

function exitFor(err: unknown, io: Io, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // Help and version "errors" are normal exits; commander already printed usage problems.
    return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Failed;
  }
  // A stop (Ctrl-C) before any transfer: said once already by the signal handler.
  if (err instanceof Error && err.name === 'AbortError') return ExitCode.Interrupted;
  io.stderr.write(`cratesync: ${printable(describe(err))}\n`);
  if (verbose && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof CratesyncError)) io.stderr.write('(run with --verbose for details)\n');
  return ExitCode.Failed;
}
