/**
 * `cratesync service logs [-f]`: the service's log file as readable lines
 * (`2026-11-30 00:12:03 INFO  message key=value…`), or as the raw JSON lines
 * with --json. -f follows the log as it grows and across rotations, until
 * Ctrl-C.
 */
import type { Command } from 'commander';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceDir } from '../../config/paths.js';
import { ExitCode } from '../../errors.js';
import { logFiles } from '../../service/log-files.js';
import type { CommandDeps } from '../deps.js';
import { printable } from '../format.js';

/** How often -f looks for new lines and new files: a log read by a person, not a trigger. */
const FOLLOW_POLL_MS = 250;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, shown in the line's head rather than as key=value. */
const HEAD = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

/** addServiceLogsCommand adds `logs` to the `service` command. */
export function addServiceLogsCommand(service: Command, deps: CommandDeps): void {
  service
    .command('logs')
    .description("print the service's log (with --json, its raw JSON lines)")
    .option('-f, --follow', 'keep printing new lines as they come, across log rotations, until Ctrl-C')
    .action(async (flags: { follow?: boolean }, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const dir = serviceDir(ctx.paths, ctx.configFile);
      const json = Boolean(ctx.global.json);
      const print = (line: string) => deps.io.stdout.write(`${json ? line : formatLogLine(line)}\n`);
      if (!flags.follow) {
        const current = logFiles(dir).at(-1);
        if (current) readLines(current, 0, print, true);
        else deps.io.stderr.write(`no service log yet in ${dir} (under service run the log goes to stdout)\n`);
      } else {
        await followLog(dir, print, deps.signal);
      }
      deps.exit(ExitCode.Ok);
    });
}

/**
 * followLog calls `onLine` for each line of the current log file of `dir`,
 * then for each line added, moving on to the next file when the log rotates,
 * until `signal` aborts. Waits for a first file when there is none.
 */
export async function followLog(dir: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void> {
  let file: string | undefined;
  let offset = 0;
  let partial = '';
  while (!signal.aborted) {
    const files = logFiles(dir);
    if (file === undefined) file = files.at(-1);
    if (file !== undefined) {
      const r = readLines(file, offset, onLine, false, partial);
      offset = r.offset;
      partial = r.partial;
      const next = files[files.indexOf(file) + 1] ?? (files.includes(file) ? undefined : files.at(-1));
      // The log rolled over: the old file is complete (pino-roll flushes it before switching).
      if (next !== undefined && next !== file && r.atEnd) {
        if (partial) onLine(partial);
        file = next;
        offset = 0;
        partial = '';
        continue;
      }
    }
    try {
      await sleep(FOLLOW_POLL_MS, undefined, { signal });
    } catch {
      break;
    }
  }
}

/**
 * readLines reads `file` from byte `offset`, calling `onLine` for each
 * complete line (and for a last unterminated one when `flush`). Returns where
 * to go on from, the unterminated rest, and whether the end was reached.
 */
function readLines(file: string, offset: number, onLine: (line: string) => void, flush: boolean, partial = ''): { offset: number; partial: string; atEnd: boolean } {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return { offset, partial, atEnd: true }; // rotated away: what is left is gone
  }
  try {
    const size = statSync(file).size;
    if (size < offset) offset = 0; // truncated or replaced
    const buf = Buffer.alloc(64 * 1024);
    let rest = partial;
    let pending = Buffer.alloc(0); // bytes of a UTF-8 character cut by the chunk's end
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n === 0) break;
      offset += n;
      const chunk = Buffer.concat([pending, buf.subarray(0, n)]);
      const cut = chunk.lastIndexOf(0x0a);
      const whole = cut >= 0 ? chunk.subarray(0, cut + 1) : Buffer.alloc(0);
      pending = cut >= 0 ? chunk.subarray(cut + 1) : chunk;
      const lines = (rest + whole.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line) onLine(line);
    }
    rest += pending.toString('utf8');
    if (flush && rest) {
      onLine(rest);
      rest = '';
    }
    return { offset, partial: rest, atEnd: true };
  } finally {
    closeSync(fd);
  }
}

/**
 * formatLogLine turns one pino JSON line into `YYYY-MM-DD HH:MM:SS LEVEL message key=value…`
 * (local time). A line that is not a log record is shown as it is, made safe to print.
 */
export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    const v: unknown = JSON.parse(line);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return printable(line);
    rec = v as Record<string, unknown>;
  } catch {
    return printable(line);
  }
  const time = typeof rec.time === 'number' ? localTime(new Date(rec.time)) : '????-??-?? ??:??:??';
  const level = (typeof rec.level === 'number' ? LEVELS[rec.level] : undefined) ?? String(rec.level ?? '?').toUpperCase();
  const parts = [time, level.padEnd(5), printable(typeof rec.msg === 'string' ? rec.msg : '')];
  for (const [k, v] of Object.entries(rec)) {
    if (HEAD.has(k) || v === undefined) continue;
    parts.push(`${printable(k)}=${value(k, v)}`);
  }
  return parts.filter((p, i) => i < 2 || p !== '').join(' ');
}

function value(key: string, v: unknown): string {
  // pino's err serializer: the message says it; the stack is in --json.
  if (key === 'err' && v !== null && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') {
    return quote((v as { message: string }).message);
  }
  if (typeof v === 'string') return quote(v);
  return printable(JSON.stringify(v) ?? String(v));
}

function quote(s: string): string {
  return s !== '' && /^[^\s"=]+$/u.test(s) ? printable(s) : printable(JSON.stringify(s));
}

function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
