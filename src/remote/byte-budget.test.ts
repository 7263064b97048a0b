import { describe, expect, it } from 'vitest';
import { ByteBudget } from './byte-budget.js';

describe('ByteBudget', () => {
  it('hands out bytes up to its capacity and queues the rest in order', async () => {
    const budget = new ByteBudget(100);
    const a = await budget.acquire(60);
    const order: string[] = [];
    const b = budget.acquire(60).then((r) => (order.push('b'), r));
    const c = budget.acquire(10).then((r) => (order.push('c'), r)); // fits, but waits behind b
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual([]);
    expect(budget.inUse).toBe(60);
    a();
    a(); // a second release is a no-op
    (await b)();
    (await c)();
    expect(order).toEqual(['b', 'c']);
    expect(budget.inUse).toBe(0);
  });

  it('clamps a request above the capacity instead of waiting forever', async () => {
    const budget = new ByteBudget(10);
    const release = await budget.acquire(1000);
    expect(budget.inUse).toBe(10);
    release();
  });

  it('gives up waiting on abort and lets others through', async () => {
    const budget = new ByteBudget(10);
    const held = await budget.acquire(8);
    const ac = new AbortController();
    const big = budget.acquire(10, ac.signal);
    const small = budget.acquire(2);
    ac.abort(new Error('stop'));
    await expect(big).rejects.toThrow('stop');
    (await small)();
    held();
    expect(budget.inUse).toBe(0);
  });
});
