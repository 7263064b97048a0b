/**
 * Running a large refresh of the Subsonic index (the first build for a
 * remote, or many noted keys) on a worker thread (subsonic-index-worker.ts)
 * with its own connection to the state file. The state is WAL, so this
 * thread keeps reading what was committed meanwhile, and its event loop
 * stays free; a build commits in short steps (see SubsonicIndex.refresh), so
 * this thread's own writes wait for a step at most. The worker
 * ends with the refresh: no heap is kept for the next one.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/** What the worker is given. */
export interface IndexWorkerData {
  /** The state database file. */
  file: string;
  /** The remote whose index is refreshed. */
  remote: string;
}

/** Messages of the index worker. */
export type IndexWorkerMessage =
  | { kind: 'progress'; songs: number }
  | { kind: 'done'; changed: number }
  | { kind: 'error'; message: string };

const WORKER = fileURLToPath(new URL('./subsonic-index-worker.js', import.meta.url));

/**
 * The worker's heap. A refresh holds a page of mirror rows and a chunk of
 * albums at a time (SQLite's page cache is not on it): a small heap that
 * is collected often keeps the process's peak memory down.
 */
const LIMITS = { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 };

/**
 * indexWorkerAvailable says whether a refresh can run on a worker: the
 * compiled worker is there (sources run by the test runner have none).
 */
export function indexWorkerAvailable(): boolean {
  return existsSync(WORKER);
}

/**
 * runIndexWorker refreshes the index of `remote` in the state `file` on a
 * worker thread, and resolves with how many songs changed. `onProgress`
 * hears the songs indexed so far during a build. A stop (`signal`)
 * terminates the worker wherever it is: the step under way is never
 * committed (a build cut short stays unfinished), and the promise rejects with the signal's reason once the worker ended
 * (its connection closed, so the state may then be closed). Rejects with
 * the worker's error (a corrupt row, a busy database, memory exhausted)
 * otherwise.
 */
export function runIndexWorker(data: IndexWorkerData, o: { onProgress?: (songs: number) => void; signal?: AbortSignal } = {}): Promise<{ changed: number }> {
  const { signal } = o;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let outcome: { ok: { changed: number } } | { err: unknown } | undefined;
    // No inherited flags: a preload (--import) has no business there.
    const worker = new Worker(WORKER, { workerData: data, resourceLimits: LIMITS, execArgv: [] });
    const onAbort = () => {
      outcome ??= { err: signal?.reason };
      void worker.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: IndexWorkerMessage) => {
      if (m.kind === 'progress') o.onProgress?.(m.songs);
      else if (m.kind === 'done') outcome ??= { ok: { changed: m.changed } };
      else outcome ??= { err: new Error(m.message) };
    });
    worker.on('error', (err) => {
      outcome ??= { err };
    });
    // Settled at the exit only: then the worker's connection is closed, and its lock released.
    worker.once('exit', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (outcome === undefined) reject(new Error(`the index worker stopped early (exit code ${code})`));
      else if ('ok' in outcome) resolve(outcome.ok);
      else reject(outcome.err);
    });
  });
}
