/**
 * BufferPool: reusable byte buffers paid for from a ByteBudget.
 *
 * A push of many multi-megabyte files reads each one into memory to hash and
 * send it. Allocating a fresh buffer per file makes V8 count every one as new
 * external memory, and it answers with full garbage collections, which then
 * take a real share of the push's CPU. Buffers handed back here are kept and
 * lent again instead.
 *
 * Contract: every buffer lent or kept idle is paid for from the budget, so the
 * memory the pool holds never exceeds the budget's capacity. Idle buffers are
 * dropped (and their bytes given back) as soon as the budget is needed for a
 * size they cannot serve, or when another borrower is waiting on the budget.
 */
import type { ByteBudget } from './byte-budget.js';

/** A lent buffer: `buf.length` is at least the size asked for. */
export interface Lease {
  readonly buf: Buffer;
  /** Gives the buffer back; calling it again does nothing. The buffer must not be used after. */
  release(): void;
}

interface Slab {
  buf: Buffer;
  /** Gives the slab's bytes back to the budget. */
  free: () => void;
}

/** Sizes are rounded up to this, so that files of slightly different sizes share buffers. */
const GRANULE = 1024 * 1024;

/** A lease waiting for a buffer: served by a returned one that fits, or by the budget. */
interface Waiter {
  size: number;
  /** Set when a returned slab was handed over. */
  got?: Slab;
  give(slab: Slab): void;
}

export class BufferPool {
  /** Idle slabs, smallest first. */
  private readonly idle: Slab[] = [];
  private readonly waiters: Waiter[] = [];

  constructor(readonly budget: ByteBudget) {}

  /** Bytes held by idle buffers. */
  get idleBytes(): number {
    return this.idle.reduce((n, s) => n + s.buf.length, 0);
  }

  /**
   * lease lends a buffer of at least `size` bytes. The smallest idle buffer
   * that fits is reused; otherwise idle buffers are dropped until the budget
   * can pay for a new one. When the budget is spent the lease waits for
   * whichever comes first: a returned buffer that fits, or bytes to buy a new
   * one. Rejects with the signal's reason on abort.
   */
  async lease(size: number, signal?: AbortSignal): Promise<Lease> {
    signal?.throwIfAborted();
    const i = this.idle.findIndex((s) => s.buf.length >= size);
    const reused = i >= 0 ? this.idle.splice(i, 1)[0] : undefined;
    if (reused) return this.lend(reused);
    const bytes = Math.ceil(Math.max(size, 1) / GRANULE) * GRANULE;
    // Largest first: each drop frees as much as it can.
    while (this.idle.length > 0 && this.budget.capacity - this.budget.inUse < Math.min(bytes, this.budget.capacity)) this.idle.pop()?.free();

    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const waiter: Waiter = {
      size,
      give(slab) {
        waiter.got = slab;
        stop.abort(); // the budget is not needed any more
      },
    };
    this.waiters.push(waiter);
    try {
      const free = await this.budget.acquire(bytes, stop.signal).catch((err: unknown) => {
        if (waiter.got) return undefined;
        throw err;
      });
      if (waiter.got) {
        free?.(); // both came at once: keep the returned buffer, give the bytes back
        return this.lend(waiter.got);
      }
      if (!free) throw new Error('unreachable: budget granted nothing');
      return this.lend({ buf: Buffer.allocUnsafeSlow(bytes), free });
    } finally {
      signal?.removeEventListener('abort', onAbort);
      const at = this.waiters.indexOf(waiter);
      if (at >= 0) this.waiters.splice(at, 1);
    }
  }

  private lend(slab: Slab): Lease {
    let done = false;
    return {
      buf: slab.buf,
      release: () => {
        if (done) return;
        done = true;
        this.giveBack(slab);
      },
    };
  }

  /**
   * giveBack hands a returned slab to the first waiting lease it fits; when
   * none fits but someone waits on the budget, its bytes go back to the
   * budget; otherwise it is kept idle.
   */
  private giveBack(slab: Slab): void {
    const w = this.waiters.findIndex((x) => !x.got && x.size <= slab.buf.length);
    const waiter = w >= 0 ? this.waiters.splice(w, 1)[0] : undefined;
    if (waiter) return waiter.give(slab);
    if (this.budget.waiting > 0) return slab.free();
    const at = this.idle.findIndex((s) => s.buf.length >= slab.buf.length);
    this.idle.splice(at < 0 ? this.idle.length : at, 0, slab);
  }
}
