/**
 * The process's memory policy, decided once when the process starts (see
 * bin/cratesync.js), never by a run: a service that lives for weeks must not
 * have its garbage collection changed by one big run.
 *
 * V8 sizes its heap for a long-running server: after each full collection it
 * lets the old generation grow to several times the live data. A sync of a
 * large library keeps its plan live and makes garbage at a steady rate (a
 * request's worth per file sent, or the tags of a file hashed), so the heap
 * grows to several times what is live and the process's peak memory with it.
 * Letting it grow only a fifth past live data keeps the peak near what is
 * live, for a few percent more CPU time spent collecting. The figures behind
 * this choice are in docs/design.md.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Percent past the live data the heap may grow before a full collection. */
export const HEAP_GROWING_PERCENT = 20;

let applied = false;

/**
 * applyMemoryPolicy sets the heap growth of this process. Call it once, first
 * thing, from the program's entry point; later calls do nothing. V8 reads the
 * flag each time it recomputes its limits, so set before any work it holds
 * from the first collection on.
 */
export function applyMemoryPolicy(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

let gc: (() => void) | undefined;

/**
 * collectGarbage runs a full collection now, so that a long-lived process
 * (the service) gives back to the system what a big run left behind once it
 * is idle, instead of holding it until V8 next needs room. Costs one full
 * collection of the live heap; meant for after a full run, not per file.
 */
export function collectGarbage(): void {
  if (!gc) {
    // --expose-gc makes `gc` a global only of contexts made after it is set: a
    // fresh context hands it over without putting it on this one's globals.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
