/**
 * The walk worker (see walk.ts): walks `workerData.root` with the filter made
 * from `workerData.filter`, and posts the files in packed chunks as it goes,
 * so that neither thread ever holds them as objects.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeFilter, type FilterOptions } from './filter.js';
import { describe } from '../errors.js';
import { TreeWalk, Walked, type WalkMessage } from './walk.js';
import type { Problem } from '../core/problem.js';

/** Files per message. */
const CHUNK = 2048;

const { root, filter } = workerData as { root: string; filter: FilterOptions };
const port = parentPort;
if (!port) throw new Error('walk-worker.js runs as a worker thread');
const post = (m: WalkMessage, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

let batch = new Walked(root);
const flush = () => {
  if (batch.length === 0) return;
  const packed = batch.pack();
  post({ kind: 'files', ...packed }, [packed.stats.buffer as ArrayBuffer]);
  batch = new Walked(root);
};
const problems: Problem[] = [];
const leftovers: string[] = [];
try {
  const sink = {
    add(...file: Parameters<Walked['add']>) {
      batch.add(...file);
      if (batch.length >= CHUNK) flush();
    },
  };
  new TreeWalk(root, makeFilter(filter), problems, leftovers, sink).run(Infinity);
  flush();
  post({ kind: 'end', problems, leftovers });
} catch (err) {
  post({ kind: 'error', message: describe(err) });
}
