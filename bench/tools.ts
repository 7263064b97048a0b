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
import type { ToolName } from './options.js';
import type { BenchPaths } from './paths.js';
import { externalProbe } from './measure.js';

export interface RunTarget {
  /** The library folder to push. */
  dir: string;
  bucket: string;
  endpoint: string;
  /** A fresh folder this run may use for state and config files. */
  scratch: string;
  /**
   * Also take out of the bucket what the library no longer has, so that all
   * three tools end with the same bucket: aws gets `--delete`; `rclone sync`
   * always does. cratesync gets nothing: a plain push turns a renamed file
   * into a move (server-side copy, old key into its trash), and whether it
   * does is what the rename scenario checks.
   */
  mirror?: boolean;
  /**
   * Have rclone list the bucket in one recursive listing (`--fast-list`):
   * s3rver 3.7 leaves out CommonPrefixes nested 2+ levels below the prefix,
   * so rclone's default folder-by-folder listing sees an empty bucket, sends
   * everything again and deletes nothing. The scenarios about what a push
   * sends after a change set this, to measure rclone rather than that bug;
   * aws and cratesync list recursively anyway.
   */
  fastList?: boolean;
}

/** What a run should have done, as far as the tool's own output can tell. */
export interface Expect {
  /** Files sent; undefined: not checked (the tool may legitimately send any number). */
  transferred?: number;
}

export interface Checked {
  problems: string[];
  info: Record<string, unknown>;
}

export interface Tool {
  name: ToolName;
  /** What `--version` says, for the report. */
  version: string;
  /** How its peak RSS is measured. */
  probe: RssProbe;
  /**
   * prepare returns the command that pushes `t.dir` into `t.bucket`. Every
   * phase of a scenario runs that same command again: what a tool keeps
   * between runs lives in `t.scratch`.
   */
  prepare(t: RunTarget): Promise<Command>;
  /**
   * check reads a finished run's own output and returns what is wrong with
   * it (empty when fine) and what the tool said about its work.
   */
  check(stdout: string, expect: Expect): Checked;
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
      // One home per target: fresh for the initial push, kept for the runs after it.
      const home = join(t.scratch, 'cratesync-home');
      await mkdir(home, { recursive: true });
      return {
        command: process.execPath,
        args: [paths.cli, 'push', t.dir, `s3://${t.bucket}/dj`, '--endpoint', t.endpoint, '--json', ...(transfers ? ['--transfers', String(transfers)] : [])],
        env: await baseEnv(t.scratch, { CRATESYNC_HOME: home, NO_COLOR: '1' }),
      };
    },
    check(stdout, expect) {
      let doc: {
        summary?: { transferred?: number; failed?: number; unchanged?: number };
        hashed?: number;
        elapsedMs?: number;
        actions?: Array<{ kind?: string; path?: string; reason?: string; error?: string }>;
        fatal?: string;
      };
      try {
        doc = JSON.parse(stdout) as typeof doc;
      } catch {
        return { problems: ['--json output is not JSON'], info: {} };
      }
      const s = doc.summary ?? {};
      const problems: string[] = [];
      if (expect.transferred !== undefined && s.transferred !== expect.transferred) problems.push(`transferred ${s.transferred} files, expected ${expect.transferred}`);
      const firstError = doc.actions?.find((a) => a.error);
      if (s.failed) problems.push(`${s.failed} failed${firstError ? `, e.g. ${firstError.path}: ${firstError.error}` : ''}`);
      if (doc.fatal) problems.push(`fatal: ${doc.fatal}`);
      // What the plan decided, e.g. {"copy-remote: moved": 1000, "trash-remote: moved": 1000}: the
      // scenarios that change the library read here how the engine saw the change.
      const actions: Record<string, number> = {};
      for (const a of doc.actions ?? []) {
        const k = `${a.kind}: ${a.reason}`;
        actions[k] = (actions[k] ?? 0) + 1;
      }
      return { problems, info: { elapsedMs: doc.elapsedMs, hashed: doc.hashed, transferred: s.transferred, unchanged: s.unchanged, actions } };
    },
  };
}

function aws(bin: string, version: string): Tool {
  return {
    name: 'aws',
    version: `${version} (${bin})`,
    probe: externalProbe(),
    async prepare(t) {
      return {
        command: bin,
        args: ['s3', 'sync', t.dir, `s3://${t.bucket}/dj/music`, '--endpoint-url', t.endpoint, '--only-show-errors', ...(t.mirror ? ['--delete'] : [])],
        env: await baseEnv(t.scratch, { AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' }),
      };
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
      // `rclone sync` always makes the destination match: t.mirror needs no flag.
      return {
        command: bin,
        args: ['sync', t.dir, `bench:${t.bucket}/dj/music`, '--config', config, ...(t.fastList ? ['--fast-list'] : [])],
        env: await baseEnv(t.scratch, {
          RCLONE_CONFIG_BENCH_TYPE: 's3',
          RCLONE_CONFIG_BENCH_PROVIDER: 'Other',
          RCLONE_CONFIG_BENCH_ENDPOINT: t.endpoint,
          RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: S3RVER_CREDENTIALS.AWS_ACCESS_KEY_ID,
          RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.AWS_SECRET_ACCESS_KEY,
          RCLONE_CONFIG_BENCH_REGION: 'us-east-1',
        }),
      };
    },
    check: () => ({ problems: [], info: {} }),
  };
}

/** baseEnv is the cleaned environment described at the top, plus `extra` (the join scenario runs cratesync pull with it too). */
export async function baseEnv(scratch: string, extra: Record<string, string>): Promise<NodeJS.ProcessEnv> {
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
