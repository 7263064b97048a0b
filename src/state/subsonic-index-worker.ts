/**
 * The index worker (see subsonic-index-thread.ts): refreshes the Subsonic
 * index of `workerData.remote` over its own connection to the state file,
 * posts the songs indexed so far as a build goes, then its result, and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { describe } from '../errors.js';
import { joinStateDb, type Db } from './state-db.js';
import { SubsonicIndex } from './subsonic-index.js';
import type { IndexWorkerData, IndexWorkerMessage } from './subsonic-index-thread.js';

/** The build's pause between runs of steps (see SubsonicIndex.refresh). */
const PAUSE_MS = 120;

const { file, remote } = workerData as IndexWorkerData;
const port = parentPort;
if (!port) throw new Error('subsonic-index-worker.js runs as a worker thread');
const post = (m: IndexWorkerMessage) => port.postMessage(m);

let db: Db | undefined;
try {
  db = joinStateDb(file);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const { changed } = new SubsonicIndex(db, remote).refresh({
    onProgress: (songs) => post({ kind: 'progress', songs }),
    // Longer than the longest sleep of SQLite's busy handler, so a writer waiting for the lock tries within it.
    pause: () => Atomics.wait(nap, 0, 0, PAUSE_MS),
  });
  post({ kind: 'done', changed });
} catch (err) {
  post({ kind: 'error', message: describe(err) });
} finally {
  db?.close();
}
