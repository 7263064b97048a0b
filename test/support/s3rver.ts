/**
 * A real S3 server for tests: s3rver in a child process (see
 * s3rver-launcher.mjs for why a child, and why --openssl-legacy-provider),
 * listening on 127.0.0.1 on a free port, storing into a fresh temporary
 * directory that stop() removes.
 *
 * Requests need credentials to be signed, but s3rver accepts any signature for
 * its built-in account: set AWS_ACCESS_KEY_ID=S3RVER and
 * AWS_SECRET_ACCESS_KEY=S3RVER for the client.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * launcherPath finds s3rver-launcher.mjs: next to this file when it runs from
 * the source tree (vitest), or in the source tree when it runs compiled as
 * dist/test/support/s3rver.js (the bench), since tsc does not copy `.mjs`
 * files. Throws when neither exists.
 */
function launcherPath(): string {
  const candidates = ['./s3rver-launcher.mjs', '../../../test/support/s3rver-launcher.mjs'].map((rel) => fileURLToPath(new URL(rel, import.meta.url)));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`s3rver-launcher.mjs not found; looked at ${candidates.join(', ')}`);
  return found;
}

export interface S3rver {
  /** `http://127.0.0.1:<port>`, for the client's endpoint. */
  endpoint: string;
  port: number;
  /** Where s3rver keeps buckets and objects. */
  dir: string;
  stop(): Promise<void>;
  /** Creates a bucket (an unsigned PUT, which s3rver allows). */
  createBucket(name: string): Promise<void>;
}

export interface S3rverOptions {
  /** Where the fresh store folder is made; default: the system temp folder. */
  parent?: string;
  /**
   * Answer concurrent deletes that empty one folder correctly instead of with
   * a spurious 500 (see s3rver-launcher.mjs). Off by default, so tests meet
   * s3rver as it is.
   */
  fixDeleteRace?: boolean;
}

/**
 * startS3rver starts s3rver in a child process on 127.0.0.1 and a free port,
 * storing its objects in a fresh folder under `opts.parent`, removed by stop().
 */
export async function startS3rver(opts: S3rverOptions = {}): Promise<S3rver> {
  const launcher = launcherPath();
  const dir = await mkdtemp(path.join(opts.parent ?? tmpdir(), 'cratesync-s3rver-'));
  const args = ['--openssl-legacy-provider', launcher, dir, ...(opts.fixDeleteRace ? ['--fix-delete-race'] : [])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('s3rver did not start within 20 s')), 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${stderr}`));
    };
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const line = out.split('\n')[0];
      if (!out.includes('\n') || line === undefined) return;
      clearTimeout(timer);
      try {
        resolve((JSON.parse(line) as { port: number }).port);
      } catch (err) {
        fail(err as Error);
      }
    });
    child.once('exit', (code) => fail(new Error(`s3rver exited with code ${code} before listening`)));
    child.once('error', fail);
  });

  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    dir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
    createBucket: (name) =>
      new Promise<void>((resolve, reject) => {
        // A fresh connection each time: a kept-alive socket the server closed while the caller's
        // event loop was busy (5 s idle timeout) would fail the request with ECONNRESET.
        const req = request(`${endpoint}/${encodeURIComponent(name)}`, { method: 'PUT', agent: false }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (s: string) => (body += s));
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`create bucket ${name}: HTTP ${res.statusCode} ${body}`))));
        });
        req.on('error', reject);
        req.end();
      }),
  };
}
