/** `cratesync init`: write the config file, non-interactively. */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import type { Config } from '../../config/config.js';
import { access } from 'node:fs/promises';
import { saveConfig } from '../../config/config.js';
import { UsageError, ExitCode } from '../../errors.js';
import { parseTransfers, withFilterOptions } from '../options.js';
import { parseMaxDelete } from '../../sync/delete-limit.js';
import { expandHome } from '../../config/paths.js';
import { userName } from '../context.js';

interface InitFlags {
  library?: string;
  remote?: string;
  include?: string[];
  exclude?: string[];
  extensions?: string;
  transfers?: string;
  maxDelete?: string;
  region?: string;
  force?: boolean;
}

export function addInitCommand(program: Command, deps: CommandDeps): void {
  const cmd = program
    .command('init')
    .description('write the config file (library, default remote, user, filters)')
    .requiredOption('--library <dir>', 'library root folder')
    .option('--remote <url>', 's3://bucket/prefix, file:///path or a folder (default: the embedded folder remote)')
    .option('--region <name>', 'S3 region');
  withFilterOptions(cmd)
    .option('--extensions <list>', 'comma-separated file extensions that take part')
    .option('--transfers <n>', 'files transferred at once')
    .option('--max-delete <limit>', 'default --max-delete')
    .option('--force', 'replace an existing config file')
    .action(async (flags: InitFlags, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      if (!flags.force) {
        const exists = await access(ctx.configFile).then(() => true, () => false);
        if (exists) throw new UsageError(`${ctx.configFile} exists; use --force to replace it`);
      }
      const transfers = parseTransfers(flags.transfers);
      if (flags.maxDelete !== undefined) parseMaxDelete(flags.maxDelete);
      const config: Config = {
        library: expandHome(flags.library ?? '.'),
        ...(flags.remote ? { remote: flags.remote } : {}),
        ...(ctx.global.endpoint ? { endpoint: ctx.global.endpoint } : {}),
        ...(ctx.global.profile ? { profile: ctx.global.profile } : {}),
        ...(flags.region ? { region: flags.region } : {}),
        user: userName(ctx),
        ...(flags.include ? { include: flags.include } : {}),
        ...(flags.exclude ? { exclude: flags.exclude } : {}),
        ...(flags.extensions ? { extensions: flags.extensions.split(',').map((e) => e.trim()).filter(Boolean) } : {}),
        ...(transfers ? { transfers } : {}),
        ...(flags.maxDelete ? { maxDelete: flags.maxDelete } : {}),
      };
      await saveConfig(ctx.configFile, config);
      deps.io.stdout.write(ctx.global.json ? `${JSON.stringify({ configFile: ctx.configFile, config }, null, 2)}\n` : `wrote ${ctx.configFile}\n`);
      deps.exit(ExitCode.Ok);
    });
}
