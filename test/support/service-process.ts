/**
 * The real service as a child process (`cratesync --config FILE service run`),
 * for end-to-end tests: its port from its first log lines, its token from its
 * folder, and its control API at hand.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN } from './cli.js';
import { serviceDir } from '../../src/config/paths.js';

export interface ServiceProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  token: string;
  /** Every log line so far, parsed. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
  /** A request to the control API with the token. */
  api(path: string, init?: RequestInit): Promise<Response>;
  status(): Promise<any>;
}

/** startService runs the service of `configFile` under CRATESYNC_HOME `home` and waits until it listens. */
export async function startService(home: string, configFile: string, env: Record<string, string | undefined> = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, [BIN, '--config', configFile, 'service', 'run'], {
    env: { ...process.env, CRATESYNC_HOME: home, AWS_CA_BUNDLE: undefined, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  let rest = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the service did not start within 30 s\n${stderr}`)), 30_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the service exited (${code}) before it started\n${stderr}`));
    });
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      rest += s;
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        try {
          const l = JSON.parse(line) as Record<string, unknown>;
          logs.push(l);
          if (l.msg === 'service started') {
            clearTimeout(timer);
            resolve(l.port as number);
          }
        } catch {
          // not a log line
        }
      }
    });
  });
  const dir = serviceDir({ configFile: '', dataDir: join(home, 'data'), stateDir: join(home, 'state') }, configFile);
  const token = readFileSync(join(dir, 'token'), 'utf8').trim();
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:${port}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) } });
  return {
    child,
    pid: child.pid as number,
    port,
    token,
    logs,
    exited,
    api,
    async status() {
      const r = await api('/api/status');
      if (!r.ok) throw new Error(`status: ${r.status} ${await r.text()}`);
      return r.json();
    },
  };
}

/** waitFor polls `check` every 100 ms until it returns a truthy value or `ms` pass (then throws with `what`). */
export async function waitFor<T>(what: string, check: () => Promise<T> | T, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** settled waits until the service is idle with an empty queue. */
export function settled(s: ServiceProcess, ms = 30_000): Promise<unknown> {
  return waitFor('the service to settle', async () => {
    const st = await s.status();
    return st.state === 'idle' && st.queue.length === 0 && st.lastSyncAt !== undefined ? st : undefined;
  }, ms);
}
