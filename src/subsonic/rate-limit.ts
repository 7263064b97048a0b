/**
 * Refusing password guessing: failed logins are counted per client address
 * and per user name; past a number of failures within a window, further
 * attempts are refused without looking at the credentials, for a time that
 * doubles with each block. A success clears both counts.
 *
 * Per user name the threshold is higher than per address: it stops a guesser
 * spread over many addresses, at the price that such a guesser can also keep
 * the real user out for a while. Memory is bounded: the oldest entries go.
 */

export interface RateLimitOptions {
  /** Failures from one address within the window before it is refused. */
  maxFailures?: number;
  /** Failures against one user name within the window before it is refused. */
  maxUserFailures?: number;
  /** The window failures are counted in, and how long a quiet entry is remembered. */
  windowMs?: number;
  /** The first block's length; each further block doubles it, up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** The most entries kept: past it, the least recently touched are forgotten. */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  windowStart: number;
  lastAt: number;
  /** How many blocks this entry has earned: the next is backoffMs * 2^blocks. */
  blocks: number;
  blockedUntil: number;
}

/** Failed logins by address and user name; see the module comment. Not shared between processes. */
export class RateLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly maxFailures: number;
  private readonly maxUserFailures: number;
  private readonly windowMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(o: RateLimitOptions = {}) {
    this.maxFailures = o.maxFailures ?? 5;
    this.maxUserFailures = o.maxUserFailures ?? 4 * this.maxFailures;
    this.windowMs = o.windowMs ?? 15 * 60_000;
    this.backoffMs = o.backoffMs ?? 30_000;
    this.maxBackoffMs = o.maxBackoffMs ?? 60 * 60_000;
    this.maxEntries = o.maxEntries ?? 10_000;
    this.now = o.now ?? Date.now;
  }

  /** blockedFor is how many ms attempts from `address` (or against `user`) are still refused; 0 when they may go on. */
  blockedFor(address: string, user?: string): number {
    const now = this.now();
    const keys = [`a:${address}`, ...(user === undefined ? [] : [`u:${user}`])];
    return Math.max(0, ...keys.map((k) => (this.entries.get(k)?.blockedUntil ?? 0) - now));
  }

  /** failure counts a failed attempt from `address` against `user` (when one was named). */
  failure(address: string, user?: string): void {
    this.count(`a:${address}`, this.maxFailures);
    if (user !== undefined) this.count(`u:${user}`, this.maxUserFailures);
  }

  /** success forgets the failures of `address` and of `user`. */
  success(address: string, user?: string): void {
    this.entries.delete(`a:${address}`);
    if (user !== undefined) this.entries.delete(`u:${user}`);
  }

  /** How many entries are kept (for tests of the bound). */
  get size(): number {
    return this.entries.size;
  }

  private count(key: string, max: number): void {
    const now = this.now();
    let e = this.entries.get(key);
    // Quiet for a whole window and not blocked: start over, blocks forgotten too.
    if (e && e.blockedUntil <= now && now - e.lastAt > this.windowMs) e = undefined;
    if (!e) e = { failures: 0, windowStart: now, lastAt: now, blocks: 0, blockedUntil: 0 };
    if (now - e.windowStart > this.windowMs) {
      e.failures = 0;
      e.windowStart = now;
    }
    e.failures++;
    e.lastAt = now;
    if (e.failures >= max) {
      e.blockedUntil = now + Math.min(this.backoffMs * 2 ** Math.min(e.blocks, 30), this.maxBackoffMs);
      e.blocks++;
      // One more failure after the block ends blocks again, for longer.
      e.failures = max - 1;
      e.windowStart = now;
    }
    // Re-inserted so the Map's order is least recently touched first.
    this.entries.delete(key);
    this.entries.set(key, e);
    this.evict(now);
  }

  private evict(now: number): void {
    if (this.entries.size <= this.maxEntries) return;
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.maxEntries) break;
      if (e.blockedUntil <= now && now - e.lastAt > this.windowMs) this.entries.delete(k);
    }
    // Still too many live entries: the least recently touched go.
    for (const k of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(k);
    }
  }
}
