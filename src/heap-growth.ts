/**
 * How far V8 lets the heap grow past what is live before collecting it.
 *
 * V8 sizes its heap for a long-running server: after each full collection it
 * lets the old generation grow to up to four times the live data. A sync of
 * 100,000 files keeps some 50 MB live, and makes garbage at a steady rate (a
 * request's worth per file, or the tags of a file hashed), so the heap kept
 * growing to four times that and the process's peak memory was three times
 * what it needs. Limiting growth to 1.2 times the live data keeps the peak
 * near what is live, for a few percent more CPU time over a long run (an
 * initial push of 100,000 files: 176 MiB and 88 CPU-seconds, against 191 MiB
 * and 84 at 1.5 times). A short run pays more for the extra collections (a
 * no-op of 20,000 files took 8% longer), so only runs with many files to
 * transfer or hash ask for it.
 *
 * `--heap-growing-percent` is read each time V8 recomputes its limits, so it
 * can be set once the process runs; it only changes when collections happen,
 * never what they keep. V8 recomputes them at a full collection, and until
 * the next one the limit the last one set stands: at 100,000 files, four
 * times a plan's worth, which the first 15 seconds of transfers filled. So
 * one collection is made at once, while what is live is the plan (25 ms).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Percent past the live data the heap may grow before a full collection. */
export const HEAP_GROWING_PERCENT = 20;

/** Runs with at least this many transfers (or files to hash) moderate the heap's growth. */
export const MANY_TRANSFERS = 1000;

/** moderateHeapGrowth applies HEAP_GROWING_PERCENT to this process, for the rest of its life (once). */
export function moderateHeapGrowth(): void {
  if (moderated) return;
  moderated = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  collectNow();
}

let moderated = false;

/**
 * collectNow makes V8 collect its heap in full. The collector is reached the
 * way `--expose-gc` offers it, in a context of its own, so that this
 * process's global scope never gains a `gc`. Where a runtime offers no
 * collector that way, nothing is collected: the run only peaks higher.
 */
function collectNow(): void {
  setFlagsFromString('--expose-gc');
  try {
    const gc: unknown = runInNewContext('typeof gc === "function" ? gc : undefined');
    if (typeof gc === 'function') gc();
  } catch {
    // No collector here: an optimisation missed, not an error.
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
