/** `cratesync trash list|restore`: browse and restore remote or local trash batches. */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import type { TrashBatch } from '../../sync/trash-batches.js';
import { globMatcher } from '../../library/filter.js';
import { localTrash, remoteTrash, restoreLocal, restoreRemote } from '../../sync/trash-batches.js';
import { openRemote } from '../../remote/remote-url.js';
import { libraryRoot, remoteOptions, remoteUrl, userName, type Context } from '../context.js';
import { recordRestored } from '../../sync/catalog.js';
import { withStateDb } from '../session.js';
import { ExitCode } from '../../errors.js';
import { formatBytes, formatCount } from '../format.js';
import { collect } from '../options.js';

interface TrashFlags {
  local?: boolean;
  include?: string[];
}

export function addTrashCommands(program: Command, deps: CommandDeps): void {
  const trash = program.command('trash').description('list or restore what push/pull --delete and replaced versions moved to trash');
  trash
    .command('list')
    .description('list trash batches (remote, or --local for the library)')
    .argument('[where]', 'remote URL, or the library folder with --local')
    .option('--local', 'the library trash instead of the remote one')
    .action(async (where: string | undefined, flags: TrashFlags, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const batches = await withTrash(ctx, where, flags, (t) => t.list());
      if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify(batches, null, 2)}\n`);
      else if (batches.length === 0) deps.io.stdout.write('trash is empty\n');
      else for (const b of batches) deps.io.stdout.write(`${b.stamp}  ${formatCount(b.items.length)} files  ${formatBytes(b.bytes)}\n`);
      deps.exit(ExitCode.Ok);
    });
  trash
    .command('restore')
    .description('put the files of a trash batch back where they were')
    .argument('<batch>', 'batch name, as trash list shows it')
    .argument('[where]', 'remote URL, or the library folder with --local')
    .option('--local', 'the library trash instead of the remote one')
    .option('--include <glob>', 'only files matching (repeatable)', collect)
    .action(async (batch: string, where: string | undefined, flags: TrashFlags, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const only = globMatcher(flags.include);
      const restored = await withTrash(ctx, where, flags, (t) => t.restore(batch, only));
      if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify({ batch, restored }, null, 2)}\n`);
      else deps.io.stdout.write(`restored ${formatCount(restored.length)} files from ${batch}\n`);
      deps.exit(ExitCode.Ok);
    });
}

interface TrashOps {
  list(): Promise<TrashBatch[]>;
  restore(stamp: string, only?: (p: string) => boolean): Promise<string[]>;
}

async function withTrash<T>(ctx: Context, where: string | undefined, flags: TrashFlags, fn: (t: TrashOps) => Promise<T>): Promise<T> {
  if (flags.local) {
    const root = await libraryRoot(ctx, where);
    return fn({ list: () => localTrash(root), restore: (s, only) => restoreLocal(root, s, only) });
  }
  const url = remoteUrl(ctx, where);
  const remote = await openRemote(url, remoteOptions(ctx, url));
  try {
    const restore = async (s: string, only?: (p: string) => boolean) => {
      const done = await restoreRemote(remote, s, only);
      // Restoring writes to music/: the other machines learn it from the catalog,
      // under this machine's identity (kept in the library's state database).
      await withStateDb(ctx, (db) => recordRestored(remote, db, userName(ctx), done));
      return done;
    };
    return await fn({ list: () => remoteTrash(remote), restore });
  } finally {
    await remote.close();
  }
}

