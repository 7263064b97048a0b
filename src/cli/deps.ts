/** What each command file gets from main: its context, streams, the interrupt signal, and the exit code to set. */
import type { Command } from 'commander';
import type { Context } from './context.js';
import type { Io } from './io.js';

export interface CommandDeps {
  /** Loads the context from the command's options merged with the global ones. */
  ctxFor(cmd: Command): Promise<Context>;
  io: Io;
  /** Aborted on SIGINT/SIGTERM: stop starting work, keep what finished. */
  signal: AbortSignal;
  /** Sets the process exit code (see ExitCode). */
  exit(code: number): void;
  /** cratesync's version, as package.json gives it. */
  version?: string;
}
