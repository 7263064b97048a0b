/**
 * The service's structured log (pino): JSON lines to stdout under
 * `cratesync service run` (systemd and launchd keep them), otherwise to a
 * size-bounded, rotated file in the service folder that `cratesync service
 * logs` reads. Everything stays in this thread: pino-roll is used as a plain
 * destination stream, not as a worker transport, which would cost a thread
 * and its heap for the whole life of the service.
 *
 * No secret reaches the log: the token, authorization headers and secret
 * keys are redacted by path, and credentials written into a URL
 * (`https://user:pass@host`) are masked in every string logged.
 */
import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger } from 'pino';
import { LOG_FILE_SIZE, LOG_FILES_KEPT } from './log-files.js';

/**
 * Where the log goes: stdout, stderr (a foreground command whose stdout says
 * something else), or rotated files named from `file` (`<dir>/service.log` →
 * service.1.log, service.2.log, …).
 */
export type LogTarget = { to: 'stdout' | 'stderr' } | { file: string };

/** flushLog writes out what `log` still buffers; call it before the process exits. */
export function flushLog(log: Logger): void {
  try {
    log.flush();
    const stream = (log as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as { flushSync?: () => void } | undefined;
    stream?.flushSync?.();
  } catch {
    // Nothing buffered, or the stream is already closed.
  }
}

/** Paths pino blanks out wherever they appear in a logged object. */
const REDACT = [
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'secret',
  '*.secret',
  'secretAccessKey',
  '*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
  'password',
  '*.password',
];

/** scrubUrls masks the credentials of URLs in `s`: `s3://key:secret@host` → `s3://***@host`. */
export function scrubUrls(s: string): string {
  return s.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

function scrubDeep(v: unknown, depth = 0): unknown {
  if (typeof v === 'string') return scrubUrls(v);
  if (depth > 4 || v === null || typeof v !== 'object' || v instanceof Error) return v;
  if (Array.isArray(v)) return v.map((x) => scrubDeep(x, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrubDeep(x, depth + 1);
  return out;
}

interface RollOptions {
  file: string;
  size?: string | number;
  limit?: { count?: number; removeOtherLogFiles?: boolean };
  mkdir?: boolean;
  sync?: boolean;
}
type RollBuild = (o: RollOptions) => Promise<DestinationStream & { flushSync?: () => void }>;

/**
 * createLogger makes the service's logger at `level`. For a file, its folder
 * is created; a file that cannot be created rejects with the fs error.
 */
export async function createLogger(target: LogTarget, level: Level = 'info', rotate = { size: LOG_FILE_SIZE, keep: LOG_FILES_KEPT }): Promise<Logger> {
  const dest: DestinationStream =
    'to' in target
      ? pino.destination({ dest: target.to === 'stderr' ? 2 : 1, sync: true })
      : await (createRequire(import.meta.url)('pino-roll') as RollBuild)({
          file: target.file,
          size: rotate.size,
          limit: { count: rotate.keep, removeOtherLogFiles: true },
          mkdir: true,
          // pino-roll rolls over on the stream's 'drain', which only asynchronous writes emit.
          sync: false,
        });
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { log: (obj) => scrubDeep(obj) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? scrubUrls(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    dest,
  );
}
