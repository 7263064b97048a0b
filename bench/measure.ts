/**
 * Running a command and measuring it: wall time from spawn to exit (process
 * start-up included, as a user waits for it), CPU time, and peak resident set
 * size, by one of three probes:
 * - `preload`: a Node program, run as `node --import rss-preload.js ...`,
 *   reports its own `maxRSS` at exit (exact, that process only);
 * - `time`: GNU `/usr/bin/time -f %M`, the kernel's ru_maxrss of the command
 *   and its waited-for descendants (the largest of them, not a sum);
 * - `poll`: VmHWM of the process and its descendants read from /proc every
 *   20 ms, largest value kept (approximate: short-lived children are missed);
 *   no CPU time.
 *
 * On a small machine the S3 server competes with the tool for the same
 * cores, so the server's CPU time during a run is measured too
 * ({@link cpuSeconds} of its process).
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
  /** User + system CPU seconds of the command (and its waited-for children with `time`). */
  cpuSeconds?: number;
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
  const usage = o.probe === 'poll' ? { peakRssKiB: polled || undefined } : await readUsageFile(o.rssFile);
  await rm(o.rssFile, { force: true });
  return {
    ms,
    code,
    signal,
    timedOut,
    stdout,
    stderr,
    rssProbe: o.probe,
    ...(usage.peakRssKiB !== undefined ? { peakRssKiB: usage.peakRssKiB } : {}),
    ...(usage.cpuSeconds !== undefined ? { cpuSeconds: usage.cpuSeconds } : {}),
  };
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
      return { command: GNU_TIME, args: ['-f', '%M %U %S', '-o', o.rssFile, cmd.command, ...cmd.args], env: cmd.env };
    case 'poll':
      return cmd;
  }
}

/**
 * readUsageFile reads `<KiB> <user s> <system s>` from the last line of a
 * probe's file (GNU time puts "Command exited with non-zero status" first).
 */
async function readUsageFile(file: string): Promise<{ peakRssKiB?: number; cpuSeconds?: number }> {
  let line: string;
  try {
    line = (await readFile(file, 'utf8')).trim().split('\n').pop() ?? '';
  } catch {
    return {};
  }
  const [kib, user, sys] = line.split(/\s+/).map(Number);
  return {
    ...(kib !== undefined && Number.isFinite(kib) && kib > 0 ? { peakRssKiB: kib } : {}),
    ...(user !== undefined && sys !== undefined && Number.isFinite(user + sys) ? { cpuSeconds: user + sys } : {}),
  };
}

/** The kernel's clock tick for /proc times; 100 on every Linux the bench runs on. */
const CLOCK_TICKS = 100;

/** cpuSeconds is the user + system CPU time used so far by process `pid` (from /proc), or undefined when unreadable. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    // Fields after the ")" that ends the command name: state is 3rd, utime 14th, stime 15th.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    const t = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(t) ? t / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}

/** childPid finds a child of this process whose command line contains `needle` (Linux only). */
export function childPid(needle: string): number | undefined {
  for (const tid of readdirSafe('/proc/self/task')) {
    let kids: string[];
    try {
      kids = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(' ').filter(Boolean);
    } catch {
      continue;
    }
    for (const k of kids) {
      try {
        if (readFileSync(`/proc/${k}/cmdline`, 'utf8').includes(needle)) return Number(k);
      } catch {
        // Gone already.
      }
    }
  }
  return undefined;
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
