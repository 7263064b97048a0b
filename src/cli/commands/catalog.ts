/** `cratesync catalog compact`: fold the remote catalog's log into a snapshot and remove what it makes redundant. */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import type { Problem } from '../../core/problem.js';
import { hostname } from 'node:os';
import { openRemote } from '../../remote/remote-url.js';
import { openStateDb } from '../../state/state-db.js';
import { machineId } from '../../state/machine.js';
import { compactCatalog } from '../../sync/catalog-compact.js';
import { remoteOptions, remoteUrl, userName } from '../context.js';
import { withStateDb } from '../session.js';
import { ExitCode } from '../../errors.js';
import { formatCount } from '../format.js';

export function addCatalogCommands(program: Command, deps: CommandDeps): void {
  const catalog = program.command('catalog').description("maintain the remote's catalog (what every machine knows of its objects)");
  catalog
    .command('compact')
    .description('write a snapshot of the catalog, then remove the log objects and old snapshots it makes redundant')
    .argument('[remote]', 's3://bucket/prefix, file:///path or a folder (default: from the config)')
    .action(async (where: string | undefined, _flags: unknown, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const url = remoteUrl(ctx, where);
      const remote = await openRemote(url, remoteOptions(ctx, url));
      const problems: Problem[] = [];
      try {
        // The snapshot is written under this machine's identity; the fold itself starts from nothing.
        const machine = await withStateDb(ctx, async (db) => machineId(db, hostname()));
        const scratch = openStateDb(':memory:');
        let r;
        try {
          r = await compactCatalog(remote, scratch, { writer: `${userName(ctx)}@${machine}`, machine, problems, signal: deps.signal });
        } finally {
          scratch.close();
        }
        const out = deps.io.stdout;
        if (ctx.global.json) {
          out.write(`${JSON.stringify({ ...r, problems }, null, 2)}\n`);
        } else {
          for (const p of problems) deps.io.stderr.write(`${p.path}: ${p.message}\n`);
          if (!r.snapshot) out.write('catalog is empty: nothing to compact\n');
          else out.write(`${r.wrote ? 'wrote' : 'kept'} snapshot ${r.snapshot} (${formatCount(r.objects)} objects)\n`);
          out.write(`removed ${formatCount(r.logsRemoved.length)} log objects${r.logsRemoved.length ? ` (${r.logsRemoved[0]} … ${r.logsRemoved[r.logsRemoved.length - 1]})` : ''}; kept ${formatCount(r.logsKept)}\n`);
          out.write(`removed ${formatCount(r.snapshotsRemoved.length)} old snapshots${r.snapshotsRemoved.length ? `: ${r.snapshotsRemoved.join(', ')}` : ''}\n`);
        }
        deps.exit(problems.length > 0 ? ExitCode.Partial : ExitCode.Ok);
      } finally {
        await remote.close();
      }
    });
}
