/**
 * Running a command and measuring it: wall time from spawn to exit (process
 * start-up included, as a user waits for it) and peak resident set size, by
 * one of three probes:
 * - `preload`: a Node program, run as `node --import rss-preload.js ...`,
 *   reports its own `maxRSS` at exit (exact, that process only);
 * - `time`: GNU `/usr/bin/time -f %M`, the kernel's ru_maxrss of the command
 *   and its waited-for descendants (the largest of them, not a sum);
 * - `poll`: VmHWM of the process and its descendants read from /proc every
 *   20 ms, largest value kept (approximate: short-lived children are missed).
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';

export type RssProbe = 'preload' | 'time' | 'poll';

export interface Command {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export interface Measured {
  ms: number;
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Peak RSS in KiB; undefined when the probe got nothing. */
  peakRssKiB?: number;
  rssProbe: RssProbe;
}

export interface MeasureOptions {
  probe: RssProbe;
  /** Scratch file for the preload and time probes (removed afterwards). */
  rssFile: string;
  /** The compiled rss-preload.js, for the preload probe. */
  preload: string;
  timeoutMs: number;
}

const GNU_TIME = '/usr/bin/time';

/** externalProbe is the best probe for a non-Node command on this machine. */
export function externalProbe(): RssProbe {
  return existsSync(GNU_TIME) ? 'time' : 'poll';
}

/**
 * measure runs `cmd` to completion (killing it after `timeoutMs`) and
 * resolves with its wall time, output and peak RSS. Rejects only when the
 * command cannot be started.
 */
export async function measure(cmd: Command, o: MeasureOptions): Promise<Measured> {
  await rm(o.rssFile, { force: true });
  const wrapped = wrap(cmd, o);
  const t0 = performance.now();
  const child = spawn(wrapped.command, wrapped.args, { env: wrapped.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  let polled = 0;
  const poller = o.probe === 'poll' ? setInterval(() => (polled = Math.max(polled, treeHwm(child.pid))), 20) : undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, o.timeoutMs);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  }).finally(() => {
    clearTimeout(timer);
    if (poller) clearInterval(poller);
  });
  const ms = performance.now() - t0;
  const peak = o.probe === 'poll' ? polled || undefined : await readRssFile(o.rssFile);
  await rm(o.rssFile, { force: true });
  return { ms, code, signal, timedOut, stdout, stderr, rssProbe: o.probe, ...(peak !== undefined ? { peakRssKiB: peak } : {}) };
}

/** timed runs `fn` and resolves with its result and how long it took. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

function wrap(cmd: Command, o: MeasureOptions): Command {
  switch (o.probe) {
    case 'preload':
      if (cmd.command !== process.execPath) throw new Error(`bench: the preload probe needs a Node command, not ${cmd.command}`);
      return { command: cmd.command, args: ['--import', pathToFileURL(o.preload).href, ...cmd.args], env: { ...cmd.env, BENCH_RSS_FILE: o.rssFile } };
    case 'time':
      return { command: GNU_TIME, args: ['-f', '%M', '-o', o.rssFile, cmd.command, ...cmd.args], env: cmd.env };
    case 'poll':
      return cmd;
  }
}

/** readRssFile reads the last line of a probe's file as KiB (GNU time puts "Command exited with non-zero status" first). */
async function readRssFile(file: string): Promise<number | undefined> {
  try {
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    const n = Number(lines[lines.length - 1]);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** treeHwm is the largest VmHWM (KiB) among `pid` and its descendants right now; 0 when gone. */
function treeHwm(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let max = 0;
  const stack = [pid];
  for (let p = stack.pop(); p !== undefined; p = stack.pop()) {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p}/status`, 'utf8'));
      if (m) max = Math.max(max, Number(m[1]));
      for (const tid of readdirSafe(`/proc/${p}/task`)) {
        for (const c of readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').split(' ')) if (c.trim()) stack.push(Number(c));
      }
    } catch {
      // The process exited between reads.
    }
  }
  return max;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
