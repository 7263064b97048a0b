/**
 * `cratesync dashboard [--no-open]`: the web dashboard of the config's
 * service. Starts the service when none runs, asks it for a one-time login
 * link (with the token, as every CLI request), and opens the browser on it,
 * or prints it.
 */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import { serviceDir } from '../../config/paths.js';
import { CratesyncError, describe, ExitCode } from '../../errors.js';
import { ServiceClient } from '../service-client.js';
import { openBrowser } from '../open-browser.js';
import { startService } from './service.js';

/** What the user is told about a link, wherever it is shown. */
const LINK_NOTE = 'the link works once, within 10 minutes';

export function addDashboardCommand(program: Command, deps: CommandDeps): void {
  const { io } = deps;
  program
    .command('dashboard')
    .description('open the web dashboard of the service in your browser (starts the service if none runs)')
    .option('--no-open', 'print the one-time login link instead of opening a browser')
    .action(async (flags: { open: boolean }, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const dir = serviceDir(ctx.paths, ctx.configFile);
      let client = await ServiceClient.find(dir);
      if (!client) {
        // Said on stderr: stdout carries the link alone.
        await startService(ctx, deps, (line) => io.stderr.write(line));
        client = await ServiceClient.find(dir);
        if (!client) throw new CratesyncError(`the service for ${ctx.configFile} stopped right after it started; see cratesync service logs`);
      }
      const url = await client.dashboardLink();
      let opened = false;
      let why: string | undefined;
      if (flags.open) {
        try {
          await openBrowser(url);
          opened = true;
        } catch (err) {
          why = describe(err);
        }
      }
      if (ctx.global.json) {
        io.stdout.write(`${JSON.stringify({ url, opened, ...(why ? { error: why } : {}) })}\n`);
      } else if (opened) {
        io.stdout.write(`opened the dashboard in your browser (${LINK_NOTE}; if no window came up, run cratesync dashboard --no-open)\n`);
      } else {
        if (why) io.stderr.write(`cratesync: could not open a browser (${why}); open this link yourself (${LINK_NOTE}):\n`);
        else io.stderr.write(`open this link in your browser (${LINK_NOTE}):\n`);
        io.stdout.write(`${url}\n`);
      }
      deps.exit(ExitCode.Ok);
    });
}
