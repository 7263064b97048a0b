/** Parsers for flag values; each throws UsageError naming the flag. */
import type { Command } from 'commander';
import { UsageError } from '../errors.js';

/** collect lets a flag repeat: `--include a --include b`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function parseTransfers(value: string | number | undefined, flag = '--transfers'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`${flag} must be a whole number from 1 to 256, not ${JSON.stringify(value)}`);
  return n;
}

/** withFilterOptions adds the repeatable --include/--exclude globs (exclude wins) to `cmd`. */
export function withFilterOptions(cmd: Command): Command {
  return cmd
    .option('--include <glob>', 'only files matching (repeatable)', collect)
    .option('--exclude <glob>', 'leave out files matching (repeatable; wins over --include)', collect);
}

/** The --full flag of commands that read the remote. */
export function withFullOption(cmd: Command): Command {
  return cmd.option('--full', 'list the whole remote even if nothing changed it since the last run');
}
