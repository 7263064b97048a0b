/**
 * The service's own writes in the library — a pulled file put in place, a
 * local move, a file moved to the local trash — so that the watcher's events
 * for them are not taken for the user's changes and sent back.
 *
 * Events come late (the native watcher batches them, and the callback waits
 * for the event loop), so a path stays ignored for a grace time after its
 * write ends. A change the user makes to that very path within the grace time
 * is missed by the watcher and left to the next periodic scan: a short grace
 * keeps that window small. Partial downloads and the trash folder are hidden
 * names, which the watcher never reports anyway.
 */

/** Long enough for @parcel/watcher's batching (at most half a second) and a busy event loop. */
export const DEFAULT_GRACE_MS = 2000;

/** Ended writes kept past this many are swept of the expired ones. */
const SWEEP_AT = 256;

export class OwnWrites {
  /** Writes under way, by library path: how many (a pull and a move of one path may overlap). */
  private readonly active = new Map<string, number>();
  /** Ended writes: until when their events are still ignored. */
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The service is about to write `path` (a pull, a move in the library, a local trash): its events are not changes. */
  begin(path: string): void {
    this.active.set(path, (this.active.get(path) ?? 0) + 1);
  }

  /**
   * The write is over (done or failed); events for it keep being ignored for
   * `graceMs` more. An end without a begin only starts the grace time.
   */
  end(path: string, graceMs = DEFAULT_GRACE_MS): void {
    const n = (this.active.get(path) ?? 0) - 1;
    if (n > 0) this.active.set(path, n);
    else this.active.delete(path);
    const t = this.now();
    this.until.set(path, Math.max(this.until.get(path) ?? 0, t + graceMs));
    if (this.until.size > SWEEP_AT) {
      for (const [p, u] of this.until) if (u < t) this.until.delete(p);
    }
  }

  /** True while `path` is being written by the service, or within the grace time after. */
  ignores(path: string): boolean {
    if (this.active.has(path)) return true;
    const u = this.until.get(path);
    if (u === undefined) return false;
    if (this.now() <= u) return true;
    this.until.delete(path);
    return false;
  }

  /** Paths being written or in their grace time (for status and tests). */
  get size(): number {
    return new Set([...this.active.keys(), ...this.until.keys()]).size;
  }
}
