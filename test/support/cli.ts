/**
 * Running the real CLI (bin/cratesync.js, built by `npm test`) as a child
 * process, the way users do, with its own CRATESYNC_HOME so tests never touch
 * the user's config or data.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/cratesync.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliEnv {
  home: string;
  env?: Record<string, string | undefined>;
  /** Written to the command's stdin (closed after it); without it, stdin is empty. */
  input?: string;
}

/** cli runs `cratesync ...args` and resolves with its exit code and output (never rejects on a non-zero exit). */
export function cli(e: CliEnv, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, CRATESYNC_HOME: e.home, AWS_CA_BUNDLE: undefined, NO_COLOR: '1', ...e.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(e.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** cliJson runs with --json and parses stdout; throws with the output when it is not JSON. */
export async function cliJson<T = any>(e: CliEnv, ...args: string[]): Promise<CliResult & { json: T }> {
  const r = await cli(e, ...args, '--json');
  try {
    return { ...r, json: JSON.parse(r.stdout) as T };
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}
