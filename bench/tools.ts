/**
 * The tools the bench compares and how each is run against the local s3rver:
 * cratesync (bin/cratesync.js, built), aws-cli (`aws s3 sync`) and rclone
 * (`rclone sync`), each with its own defaults and only what it needs to reach
 * the server. All three land the library under `<bucket>/dj/music/`.
 *
 * Every command gets a cleaned environment: no AWS_CA_BUNDLE (rclone fails
 * on a plain-HTTP endpoint with it), no AWS profile, endpoint, proxy or RCLONE_*
 * settings from the user, empty AWS config and credentials files, and the
 * s3rver account (S3RVER/S3RVER) in us-east-1.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { delimiter, join } from 'node:path';
import type { Command, RssProbe } from './measure.js';
import type { LibrarySet } from './library.js';
import type { ToolName } from './options.js';
import type { BenchPaths } from './paths.js';
import { externalProbe } from './measure.js';

/** A prepared target: the commands for one set into one fresh bucket. */
export interface ToolRun {
  initial: Command;
  noop: Command;
}

export interface RunTarget {
  set: LibrarySet;
  bucket: string;
  endpoint: string;
  /** A fresh folder this run may use for state and config files. */
  scratch: string;
}

export interface Tool {
  name: ToolName;
  /** What `--version` says, for the report. */
  version: string;
  /** How its peak RSS is measured. */
  probe: RssProbe;
  prepare(t: RunTarget): Promise<ToolRun>;
  /**
   * check reads a finished run's own output and returns what is wrong with
   * it (empty when fine); `phase` tells what the run should have done.
   */
  check(phase: 'initial' | 'noop', stdout: string, set: LibrarySet): { problems: string[]; info: Record<string, unknown> };
}

/** s3rver accepts any signature from its built-in account. */
const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

/**
 * discoverTools returns the wanted tools that can run here, in the order
 * given, and a note for each one skipped.
 */
export function discoverTools(wanted: ToolName[], paths: BenchPaths, transfers: number | undefined): { tools: Tool[]; skipped: string[] } {
  const tools: Tool[] = [];
  const skipped: string[] = [];
  for (const name of wanted) {
    if (name === 'cratesync') {
      if (!existsSync(join(paths.root, 'dist', 'src', 'cli', 'main.js'))) skipped.push('cratesync: not built (run npm run build)');
      else tools.push(cratesync(paths, transfers));
      continue;
    }
    const bin = name === 'aws' && isExecutable('/usr/bin/aws') ? '/usr/bin/aws' : onPath(name);
    if (!bin) {
      skipped.push(`${name}: not on PATH`);
      continue;
    }
    const version = versionOf(bin, name === 'aws' ? ['--version'] : ['version']);
    tools.push(name === 'aws' ? aws(bin, version) : rclone(bin, version));
  }
  return { tools, skipped };
}

function cratesync(paths: BenchPaths, transfers: number | undefined): Tool {
  const git = spawnSync('git', ['describe', '--always', '--dirty'], { cwd: paths.root, encoding: 'utf8' });
  const pkg = versionOf(process.execPath, [paths.cli, '--version']);
  return {
    name: 'cratesync',
    version: `${pkg}${git.status === 0 ? ` (${git.stdout.trim()})` : ''}, node ${process.version}`,
    probe: 'preload',
    async prepare(t) {
      // One home per target: fresh for the initial push, kept for the no-op.
      const home = join(t.scratch, 'cratesync-home');
      await mkdir(home, { recursive: true });
      const push: Command = {
        command: process.execPath,
        args: [paths.cli, 'push', t.set.dir, `s3://${t.bucket}/dj`, '--endpoint', t.endpoint, '--json', ...(transfers ? ['--transfers', String(transfers)] : [])],
        env: await baseEnv(t.scratch, { CRATESYNC_HOME: home, NO_COLOR: '1' }),
      };
      return { initial: push, noop: push };
    },
    check(phase, stdout, set) {
      let doc: {
        summary?: { transferred?: number; failed?: number; unchanged?: number };
        hashed?: number;
        elapsedMs?: number;
        actions?: Array<{ path?: string; error?: string }>;
        fatal?: string;
      };
      try {
        doc = JSON.parse(stdout) as typeof doc;
      } catch {
        return { problems: ['--json output is not JSON'], info: {} };
      }
      const s = doc.summary ?? {};
      const want = phase === 'initial' ? set.count : 0;
      const problems: string[] = [];
      if (s.transferred !== want) problems.push(`transferred ${s.transferred} files, expected ${want}`);
      const firstError = doc.actions?.find((a) => a.error);
      if (s.failed) problems.push(`${s.failed} failed${firstError ? `, e.g. ${firstError.path}: ${firstError.error}` : ''}`);
      if (doc.fatal) problems.push(`fatal: ${doc.fatal}`);
      return { problems, info: { elapsedMs: doc.elapsedMs, hashed: doc.hashed, transferred: s.transferred, unchanged: s.unchanged } };
    },
  };
}

function aws(bin: string, version: string): Tool {
  return {
    name: 'aws',
    version: `${version} (${bin})`,
    probe: externalProbe(),
    async prepare(t) {
      const sync: Command = {
        command: bin,
        args: ['s3', 'sync', t.set.dir, `s3://${t.bucket}/dj/music`, '--endpoint-url', t.endpoint, '--only-show-errors'],
        env: await baseEnv(t.scratch, { AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' }),
      };
      return { initial: sync, noop: sync };
    },
    check: () => ({ problems: [], info: {} }),
  };
}

function rclone(bin: string, version: string): Tool {
  return {
    name: 'rclone',
    version: `${version} (${bin})`,
    probe: externalProbe(),
    async prepare(t) {
      const config = join(t.scratch, 'rclone.conf');
      await writeFile(config, '');
      const sync: Command = {
        command: bin,
        args: ['sync', t.set.dir, `bench:${t.bucket}/dj/music`, '--config', config],
        env: await baseEnv(t.scratch, {
          RCLONE_CONFIG_BENCH_TYPE: 's3',
          RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
          RCLONE_CONFIG_BENCH_ENDPOINT: t.endpoint,
          RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: S3RVER_CREDENTIALS.AWS_ACCESS_KEY_ID,
          RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
          RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
        }),
      };
      return { initial: sync, noop: sync };
    },
    check: () => ({ problems: [], info: {} }),
  };
}

/** baseEnv is the cleaned environment described at the top, plus `extra`. */
async function baseEnv(scratch: string, extra: Record<string, string>): Promise<NodeJS.ProcessEnv> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(AWS_|RCLONE_)/.test(k) || /^(https?|all|no)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  const awsConfig = join(scratch, 'aws-config');
  const awsCredentials = join(scratch, 'aws-credentials');
  await writeFile(awsConfig, '');
  await writeFile(awsCredentials, '');
  return {
    ...env,
    ...S3RVER_CREDENTIALS,
    AWS_REGION: 'us-east-1',
    AWS_CONFIG_FILE: awsConfig,
    AWS_SHARED_CREDENTIALS_FILE: awsCredentials,
    // Only 127.0.0.1 is ever contacted; make sure no proxy is asked.
    NO_PROXY: '127.0.0.1,localhost',
    ...extra,
  };
}

function versionOf(bin: string, args: string[]): string {
  const r = spawnSync(bin, args, { encoding: 'utf8', env: { ...process.env, AWS_CA_BUNDLE: undefined } as NodeJS.ProcessEnv, timeout: 30_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return out || `unknown (exit ${r.status})`;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, name);
    if (dir && isExecutable(p)) return p;
  }
  return undefined;
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
