/**
 * Vitest global setup: every test file runs with TMPDIR pointing at one fresh
 * folder, removed when the run ends, so that the libraries, homes and s3rver
 * stores the tests make under os.tmpdir() never pile up on the machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'cratesync-tests-'));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir; // inherited by the forked test workers
  // Tests that talk to s3rver through the SDK directly would print its Node 20 notice (the CLI silences it too).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(dir, { recursive: true, force: true });
  };
}
