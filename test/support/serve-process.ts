/**
 * The real Subsonic server as a child process (`cratesync serve … --listen
 * 127.0.0.1:<free port>`), for end-to-end tests and the bench: started, asked
 * `ping` until it answers, stopped with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN } from './cli.js';

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** What it printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** freePort finds a port of 127.0.0.1 no one listens on (closed again at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** startServe runs `cratesync ...args serve ...serveArgs --listen 127.0.0.1:<port>` under CRATESYNC_HOME `home` and waits until `ping` answers. */
export async function startServe(home: string, args: { before?: string[]; serve?: string[] }, env: Record<string, string | undefined> = {}): Promise<ServeProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, ...(args.before ?? []), 'serve', ...(args.serve ?? []), '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, CRATESYNC_HOME: home, AWS_CA_BUNDLE: undefined, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (out += s));
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cratesync serve exited (${child.exitCode}) before it answered\n${out}`);
    const ok = await fetch(`${url}/rest/ping?f=json`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > until) {
      child.kill('SIGKILL');
      throw new Error(`cratesync serve did not answer ping within 30 s\n${out}`);
    }
    await sleep(50);
  }
  return {
    child,
    port,
    url,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([gone, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    },
  };
}
