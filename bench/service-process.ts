/**
 * A cratesync service run by the bench: `cratesync --config FILE service run`
 * in the foreground as a child process, with default service settings, its
 * control API asked through the CLI's own client (src/cli/service-client.ts)
 * and its memory read from /proc. Its stdout is JSON log lines: the one
 * saying "service started" tells that the control API listens; warnings and
 * errors are kept for the report.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ServiceClient } from '../src/cli/service-client.js';
import { appPaths, serviceDir } from '../src/config/paths.js';
import type { ServiceStatus } from '../src/service/control.js';

/** How often the service's status is asked while waiting for it. */
const STATUS_POLL_MS = 20;
/** How long a stop may take before the process is killed. */
const STOP_WAIT_MS = 30_000;
/** Warnings kept for the report, at most. */
const MAX_WARNINGS = 20;
/** pino's level of warnings. */
const PINO_WARN = 40;

export interface BenchService {
  pid: number;
  client: ServiceClient;
  /** Warnings and errors the service logged so far (the report shows them; they do not spoil the figures). */
  warnings(): string[];
  /** What went wrong with the process itself: an exit nobody asked for, a stop that needed a kill. */
  faults(): string[];
  /** True while the process runs. */
  alive(): boolean;
  /**
   * waitIdle resolves with the status once the service is idle with an
   * empty queue, no run under way, and `until` (when given) holds. Rejects
   * when the service is in state error, has exited, or `timeoutMs` passes.
   */
  waitIdle(timeoutMs: number, until?: (s: ServiceStatus) => boolean): Promise<ServiceStatus>;
  /** stop asks the service to stop and waits for its exit; kills it when that takes too long. Never rejects. */
  stop(): Promise<void>;
}

/** writeServiceConfig writes the config file of a bench service into `scratch` and returns its absolute path. */
export async function writeServiceConfig(scratch: string, c: { library: string; remote: string; endpoint: string }): Promise<string> {
  const file = resolve(scratch, 'config.json');
  await writeFile(file, `${JSON.stringify(c, null, 2)}\n`);
  return file;
}

/**
 * startService spawns the service of `configFile` with `env` (CRATESYNC_HOME
 * set to `home`) and resolves once its control API answers. Rejects, the
 * process killed, when it exits or does not start within `timeoutMs`.
 */
export async function startService(o: { cli: string; configFile: string; home: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<BenchService> {
  const child = spawn(process.execPath, [o.cli, '--config', o.configFile, 'service', 'run'], { env: o.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const warnings: string[] = [];
  const faults: string[] = [];
  let stopping = false;
  let stderr = '';
  let exit: string | undefined;
  let started: () => void = () => {};
  const startedP = new Promise<void>((r) => (started = r));
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    buffered += s;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      let doc: { level?: number; msg?: string; path?: string; err?: unknown };
      try {
        doc = JSON.parse(line) as typeof doc;
      } catch {
        continue;
      }
      if (doc.msg === 'service started') started();
      if ((doc.level ?? 0) >= PINO_WARN && warnings.length < MAX_WARNINGS) warnings.push(`${doc.msg ?? ''}${doc.path ? ` (${doc.path})` : ''}${doc.err ? ` ${JSON.stringify(doc.err)}` : ''}`);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-2000)));
  const exited = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exit = `exit ${code ?? signal}`;
      if (code !== 0 || !stopping) faults.push(`the service ended (${exit})${stopping ? '' : ' before it was asked to'}; stderr: ${stderr.trim() || '(empty)'}`);
      r();
    }),
  );
  const failure = async (why: string): Promise<never> => {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`the service did not start: ${why}; stderr: ${stderr.trim() || '(empty)'}`);
  };
  const first = await raceTimeout(Promise.race([startedP.then(() => 'started' as const), exited.then(() => 'exited' as const)]), o.timeoutMs, 'timeout' as const);
  if (first !== 'started') return failure(first === 'exited' ? (exit ?? 'exited') : `no "service started" within ${o.timeoutMs / 1000} s`);
  const dir = serviceDir(appPaths({ CRATESYNC_HOME: o.home }), o.configFile);
  const client = await ServiceClient.find(dir);
  if (!client) return failure(`no live service.json in ${dir}`);
  const pid = client.info.pid;

  return {
    pid,
    client,
    warnings: () => [...warnings],
    faults: () => [...faults],
    alive: () => exit === undefined,
    async waitIdle(timeoutMs, until) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        if (exit !== undefined) throw new Error(`the service ended (${exit})`);
        const s = await client.status();
        if (s.state === 'error') throw new Error(`the service is in state error: ${s.reason ?? '(no reason)'}`);
        if (s.state === 'idle' && s.queue.length === 0 && !s.run && (until?.(s) ?? true)) return s;
        if (performance.now() > deadline) throw new Error(`the service was not idle within ${timeoutMs / 1000} s (state ${s.state}, queue ${s.queue.length})`);
        await sleep(STATUS_POLL_MS);
      }
    },
    async stop() {
      if (exit !== undefined) return;
      stopping = true;
      await client.post('/api/stop').catch(() => child.kill('SIGTERM'));
      const done = await raceTimeout(exited.then(() => true), STOP_WAIT_MS, false);
      if (!done) {
        faults.push(`the service did not stop within ${STOP_WAIT_MS / 1000} s: killed`);
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/**
 * raceTimeout resolves with `p`'s value, or with `late` once `ms` pass
 * first; its timer is cleared either way, so that it never keeps the bench
 * running after its work is done.
 */
async function raceTimeout<T, L>(p: Promise<T>, ms: number, late: L): Promise<T | L> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<L>((resolve) => (timer = setTimeout(() => resolve(late), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** ProcMemory: resident set now and its peak since the process started, in KiB. */
export interface ProcMemory {
  rssKiB: number;
  hwmKiB: number;
}

/** procMemory reads VmRSS and VmHWM of process `pid` from /proc; undefined when it is gone or unreadable. */
export function procMemory(pid: number): ProcMemory | undefined {
  try {
    const status = readFileSync(join('/proc', String(pid), 'status'), 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return rss && hwm ? { rssKiB: Number(rss[1]), hwmKiB: Number(hwm[1]) } : undefined;
  } catch {
    return undefined;
  }
}
