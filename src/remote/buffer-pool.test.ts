import { describe, expect, it } from 'vitest';
import { BufferPool } from './buffer-pool.js';
import { ByteBudget } from './byte-budget.js';

const MiB = 1024 * 1024;
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('BufferPool', () => {
  it('lends the same memory again once it is given back', async () => {
    const pool = new BufferPool(new ByteBudget(10 * MiB));
    const a = await pool.lease(3 * MiB + 1);
    expect(a.buf.length).toBe(4 * MiB); // rounded up to whole MiB
    const first = a.buf;
    a.release();
    a.release(); // a second release is a no-op
    expect(pool.idleBytes).toBe(4 * MiB);
    const b = await pool.lease(2 * MiB); // smaller fits in the idle one
    expect(b.buf).toBe(first);
    expect(pool.budget.inUse).toBe(4 * MiB);
    b.release();
  });

  it('never holds more than its budget, idle buffers included', async () => {
    const pool = new BufferPool(new ByteBudget(8 * MiB));
    const small = await pool.lease(2 * MiB);
    const other = await pool.lease(2 * MiB);
    small.release();
    other.release();
    expect(pool.idleBytes).toBe(4 * MiB);
    // 6 MiB does not fit in either idle buffer: they are dropped to pay for it.
    const big = await pool.lease(6 * MiB);
    expect(big.buf.length).toBe(6 * MiB);
    // Only as many were dropped as needed; what is kept idle is still paid for.
    expect(pool.idleBytes).toBe(2 * MiB);
    expect(pool.budget.inUse).toBe(8 * MiB);
    big.release();
  });

  it('hands a returned buffer straight to a waiting lease instead of allocating', async () => {
    const pool = new BufferPool(new ByteBudget(8 * MiB));
    const a = await pool.lease(4 * MiB);
    const b = await pool.lease(4 * MiB);
    let c: Buffer | undefined;
    const waiting = pool.lease(4 * MiB).then((l) => ((c = l.buf), l));
    await tick();
    expect(c).toBeUndefined(); // budget spent: it waits
    a.release();
    const lc = await waiting;
    expect(c).toBe(a.buf);
    expect(pool.budget.inUse).toBe(8 * MiB);
    expect(pool.budget.waiting).toBe(0); // its budget request was withdrawn
    b.release();
    lc.release();
    expect(pool.budget.inUse).toBe(8 * MiB); // both kept idle, still paid for
    expect(pool.idleBytes).toBe(8 * MiB);
  });

  it('gives bytes back to the budget when a waiter needs a bigger buffer', async () => {
    const pool = new BufferPool(new ByteBudget(8 * MiB));
    const a = await pool.lease(4 * MiB);
    const b = await pool.lease(4 * MiB);
    const big = pool.lease(8 * MiB);
    await tick();
    a.release();
    b.release();
    const l = await big;
    expect(l.buf.length).toBe(8 * MiB);
    expect(pool.idleBytes).toBe(0);
    l.release();
  });

  it('stops waiting on abort', async () => {
    const pool = new BufferPool(new ByteBudget(4 * MiB));
    const a = await pool.lease(4 * MiB);
    const ac = new AbortController();
    const waiting = pool.lease(1 * MiB, ac.signal);
    ac.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    expect(pool.budget.waiting).toBe(0);
    a.release();
    expect(pool.idleBytes).toBe(4 * MiB); // nobody waits: kept
  });
});
