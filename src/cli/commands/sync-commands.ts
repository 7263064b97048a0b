/**
 * `push`, `pull`, `sync` and `status`: one-way and two-way sync, and a dry run
 * of the two-way one. The engine does the work (see sync-run.ts); this file
 * declares the commands and their flags.
 */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import type { Direction } from '../../sync/plan.js';
import { collect, withFilterOptions, withFullOption } from '../options.js';
import { playlistPull } from './playlist-pull.js';
import { UsageError } from '../../errors.js';
import { syncCommand, type SyncFlags } from './sync-run.js';

const VERBS: Record<Direction, string> = {
  push: 'upload what the remote lacks or holds with other content',
  pull: 'download what the library lacks or holds with other content',
  sync: 'two-way: carry each side\'s changes to the other; a file changed on both keeps both versions',
};

const DELETE_HELP: Record<Direction, string> = {
  push: 'move remote files the library no longer has to the remote trash',
  pull: 'move library files the remote no longer has to the local trash',
  sync: 'carry deletions across, to the trash of the other side',
};

/** addSyncCommands registers push, pull, sync and status on `program`. */
export function addSyncCommands(program: Command, deps: CommandDeps): void {
  const { ctxFor, io, signal } = deps;
  for (const direction of ['push', 'pull', 'sync'] as const) {
    const verb = VERBS[direction];
    const cmd = program
      .command(direction)
      .description(verb)
      .argument('[library]', 'library folder (default: from the config)')
      .argument('[remote]', 's3://bucket/prefix, file:///path or a folder (default: from the config, else the embedded folder remote)');
    withFullOption(withFilterOptions(cmd))
      .option('--transfers <n>', 'files transferred at once (default 16)')
      .option('-n, --dry-run', 'print the plan, change nothing')
      .option('--delete', DELETE_HELP[direction])
      .option('--max-delete <limit>', 'with --delete: refuse past this share ("50%", the default) or count ("200")');
    if (direction === 'pull') {
      cmd
        .option('--from <user>', "only the tracks of this crew member's collection (see cratesync collection)")
        .option('--playlist <name>', 'with --from: only this playlist\'s tracks, by name or path like "Sets/Peak Time"; a folder means all below it (repeatable)', collect);
    }
    cmd.action(async (library: string | undefined, remote: string | undefined, flags: SyncFlags & { from?: string; playlist?: string[] }, cmd: Command) => {
      const ctx = await ctxFor(cmd);
      if (flags.playlist && flags.from === undefined) throw new UsageError('--playlist needs --from <user>: whose playlist?');
      if (flags.from !== undefined) deps.exit(await playlistPull(ctx, io, signal, library, remote, { ...flags, from: flags.from }));
      else deps.exit(await syncCommand(ctx, io, signal, direction, library, remote, flags, deps.version));
    });
  }
  const status = program
    .command('status')
    .description('show what differs between the library and the remote, changing nothing')
    .argument('[library]', 'library folder')
    .argument('[remote]', 'remote URL or folder');
  withFullOption(withFilterOptions(status)).action(async (library: string | undefined, remote: string | undefined, flags: SyncFlags, cmd: Command) => {
    deps.exit(await syncCommand(await ctxFor(cmd), io, signal, 'status', library, remote, { ...flags, dryRun: true }));
  });
}

