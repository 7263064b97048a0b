/**
 * The error classes of cratesync. Every failure the engine expects is one of
 * these; anything else is a bug and is reported with its stack under --verbose.
 *
 * Classification (retry or not, stop the run or only the file) and the
 * one-line message a user sees live here, in one place: see {@link classify}
 * and {@link describe}.
 */

/** Base class: a message meant for users, and the underlying cause. */
export class CratesyncError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line arguments or flag values. Nothing was done. */
export class UsageError extends CratesyncError {}

/** A config file or option is invalid; `key` names the offending setting. */
export class ConfigError extends CratesyncError {
  constructor(
    readonly file: string,
    readonly key: string,
    message: string,
  ) {
    super(`${file}: ${key}: ${message}`);
  }
}

/** The object or file does not exist. Remotes throw it from stat/get/delete. */
export class NotFoundError extends CratesyncError {
  constructor(readonly key: string) {
    super(`not found: ${key}`);
  }
}

/**
 * A byte range that starts past the end of the object (Remote.openRead):
 * nothing to read. `size` is the whole object's, for the Content-Range of
 * an HTTP 416 answer.
 */
export class RangeNotSatisfiableError extends CratesyncError {
  constructor(
    readonly key: string,
    readonly size: number,
  ) {
    super(`${key}: the range asked for starts past the end of its ${size} bytes`);
  }
}

/** Credentials missing or refused. Fatal for the whole run. */
export class AccessDeniedError extends CratesyncError {}

/** The remote cannot be reached at all (DNS, refused connection, no such bucket). Fatal. */
export class UnreachableError extends CratesyncError {}

/** A transient failure (5xx, SlowDown, reset, timeout): worth retrying. */
export class TransientError extends CratesyncError {}

/** Bytes stored or received do not hash to what was sent or expected. Retried, then reported. */
export class ChecksumError extends CratesyncError {}

/** One local file cannot be used (unreadable, vanished, bad name). Only that file fails. */
export class FileError extends CratesyncError {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${message}`, options);
  }
}

/** Another run (a service, another command) holds the library's lock; nothing was done. */
export class BusyError extends CratesyncError {}

/** A planned deletion exceeds the allowed share; nothing was deleted. */
export class SafetyError extends CratesyncError {}

/** A conditional write found the key not as the caller expected it (another writer stored it meanwhile). */
export class PreconditionError extends CratesyncError {}

/** What a refused delete would have done, and the limit it passed. */
export interface DeleteLimitFacts {
  /** The command: push, pull or sync. */
  direction: string;
  /** The side whose files would go to trash. */
  side: 'remote' | 'local';
  /** Files that would go to trash on that side. */
  n: number;
  /** Files on that side before the run. */
  base: number;
  /** `n` as a share of `base`, 0–100 (100 for an empty side). */
  share: number;
  /** The limit passed: a share (0–100) or a count of files. */
  limit: { percent: number } | { count: number };
}

/** A --delete run would move more files to trash than --max-delete allows; nothing was changed. */
export class DeleteLimitError extends SafetyError {
  constructor(readonly facts: DeleteLimitFacts) {
    const { direction, side, n, base, share, limit } = facts;
    const allowed = 'percent' in limit ? `${limit.percent}%` : `${limit.count} files`;
    super(
      `${direction} --delete would move ${n} of ${base} ${side} files (${share.toFixed(0)}%) to trash, ` +
        `over the limit of ${allowed}; nothing was changed (raise it with --max-delete)`,
    );
  }
}

/** How the engine reacts to an error. */
export type ErrorClass = 'retry' | 'file' | 'fatal';

/** System and socket error codes of failures worth retrying (a dropped or stalled connection). */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * classify decides what to do with an error: retry the operation, give up on
 * this one file and go on with the others, or stop the whole run.
 */
export function classify(err: unknown): ErrorClass {
  if (err instanceof TransientError || err instanceof ChecksumError) return 'retry';
  if (
    err instanceof UsageError ||
    err instanceof ConfigError ||
    err instanceof AccessDeniedError ||
    err instanceof UnreachableError ||
    err instanceof SafetyError
  ) {
    return 'fatal';
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return 'retry';
  return 'file';
}

/** describe turns any error into one line for humans, without a stack. */
export function describe(err: unknown): string {
  if (err instanceof CratesyncError) return err.message;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const path = (err as { path?: unknown }).path;
    if (typeof code === 'string' && typeof path === 'string') return `${path}: ${systemMessage(code, err.message)}`;
    return err.message.split('\n')[0] ?? String(err);
  }
  return String(err);
}

function systemMessage(code: string, fallback: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'too many levels of symbolic links';
    case 'ENAMETOOLONG':
      return 'name too long';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOSPC':
      return 'no space left on device';
    default:
      return fallback.split('\n')[0] ?? code;
  }
}

/** Process exit codes; documented in the README. */
export const ExitCode = {
  /** Everything planned was done. */
  Ok: 0,
  /** The run went through, but some files failed (listed in the summary). */
  Partial: 1,
  /** Nothing was done: bad arguments or config, remote unreachable, access denied, safety limit. */
  Failed: 2,
  /** Interrupted by the user (SIGINT); finished files are kept and a re-run continues. */
  Interrupted: 130,
} as const;
