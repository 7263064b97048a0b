/**
 * Where the bench finds the project and keeps its files. The bench runs
 * compiled (dist/bench/*.js), so paths are found from the package root, never
 * relative to the compiled file's own folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packageRoot is the nearest folder above this module whose package.json names cratesync. Throws when there is none. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'cratesync') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('bench: cratesync package.json not found above the bench');
    dir = up;
  }
}

/** benchPaths are the bench's working folders, all under the git-ignored `.bench/`. */
export function benchPaths(root = packageRoot()) {
  const base = join(root, '.bench');
  return {
    root,
    base,
    /** Generated libraries, one folder per parameter set, reused across runs. */
    data: join(base, 'data'),
    /** Per-run scratch: CRATESYNC_HOMEs, empty tool configs, RSS files. Emptied at each start. */
    tmp: join(base, 'tmp'),
    results: join(base, 'results.json'),
    cli: join(root, 'bin', 'cratesync.js'),
    /** The compiled RSS preload (see rss-preload.ts). */
    preload: join(root, 'dist', 'bench', 'rss-preload.js'),
    /** The compiled media player of the players scenario (see player-worker.ts). */
    playerWorker: join(root, 'dist', 'bench', 'player-worker.js'),
  };
}

export type BenchPaths = ReturnType<typeof benchPaths>;
