/**
 * `cratesync user register` and `cratesync user list`: the users registry of
 * a remote (share/user-registry.ts): who shares it, from which machines, with
 * their library roots.
 */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import type { Problem } from '../../core/problem.js';
import type { UserEntry } from '../../share/user-registry.js';
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { openRemote } from '../../remote/remote-url.js';
import { openStateDb } from '../../state/state-db.js';
import { machineId } from '../../state/machine.js';
import { stateDbFile } from '../../config/paths.js';
import { checkUserName, readRegistry, registerMachine, thisMachine } from '../../share/user-registry.js';
import { libraryRoot, remoteOptions, remoteUrl, userName, type Context } from '../context.js';
import { userNameSource } from '../after-push.js';
import { ExitCode, UsageError } from '../../errors.js';
import { formatAgo, printable } from '../format.js';
import type { Remote } from '../../remote/remote.js';

const REMOTE_HELP = 's3://bucket/prefix, file:///path or a folder (default: from the config, else the embedded folder remote)';

export function addUserCommands(program: Command, deps: CommandDeps): void {
  const user = program.command('user').description('the users registry: who shares the remote, from which machines');
  user
    .command('register')
    .description('add this machine (its library root and OS) to your entry in the registry, or refresh it')
    .argument('[remote]', REMOTE_HELP)
    .option('--library <dir>', 'library folder (default: from the config)')
    .action(async (where: string | undefined, flags: { library?: string }, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const name = checkUserName(userName(ctx), userNameSource(ctx));
      const root = libraryRoot(ctx, flags.library);
      const st = await stat(root).catch(() => undefined);
      if (!st?.isDirectory()) throw new UsageError(`library folder ${root}: ${st ? 'not a folder' : 'not found'}`);
      // The id this library's runs write under: its state database keeps it.
      const db = openStateDb(stateDbFile(ctx.paths, root));
      let machine: string;
      try {
        machine = machineId(db, hostname());
      } finally {
        db.close();
      }
      const entry = await withRemote(ctx, where, (remote) => registerMachine(remote, name, thisMachine({ machine, root }, deps.version)));
      if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
      else deps.io.stdout.write(`registered ${printable(name)}@${printable(machine)} (${printable(entry.machines.find((m) => m.id === machine)?.root ?? root)})\n`);
      deps.exit(ExitCode.Ok);
    });
  user
    .command('list')
    .description('list the users of the remote: machines, OS, library root, last seen')
    .argument('[remote]', REMOTE_HELP)
    .action(async (where: string | undefined, _flags: unknown, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const problems: Problem[] = [];
      const users = await withRemote(ctx, where, (remote) => readRegistry(remote, problems, deps.signal));
      for (const p of problems) deps.io.stderr.write(`warning: ${printable(p.path)}: ${printable(p.message)}\n`);
      if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify({ users, problems }, null, 2)}\n`);
      else deps.io.stdout.write(renderUsers(users));
      deps.exit(problems.length > 0 ? ExitCode.Partial : ExitCode.Ok);
    });
}

async function withRemote<T>(ctx: Context, where: string | undefined, fn: (r: Remote) => Promise<T>): Promise<T> {
  const url = remoteUrl(ctx, where);
  const remote = await openRemote(url, remoteOptions(ctx, url));
  try {
    return await fn(remote);
  } finally {
    await remote.close();
  }
}

/** renderUsers is the table `user list` prints: one row per machine, most recently seen first within a user. */
export function renderUsers(users: readonly UserEntry[], now: number = Date.now()): string {
  if (users.length === 0) return 'no users registered (cratesync user register adds you)\n';
  const rows = [['USER', 'MACHINE', 'OS', 'LIBRARY ROOT', 'LAST SEEN', 'FIRST SEEN']];
  for (const u of users) {
    if (u.machines.length === 0) rows.push([printable(u.name), '-', '-', '-', '-', '-']);
    for (const m of u.machines) rows.push([printable(u.name), printable(m.id), printable(m.os), printable(m.root), formatAgo(m.lastSeen, now), formatAgo(m.firstSeen, now)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`).join('');
}
