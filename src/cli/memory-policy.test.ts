import { describe, expect, it } from 'vitest';
import { collectGarbage } from './memory-policy.js';

describe('collectGarbage', () => {
  it('collects what is no longer referenced, and leaves no global gc behind', async () => {
    let big: number[][] | undefined = Array.from({ length: 200 }, () => new Array<number>(10_000).fill(1));
    const ref = new WeakRef(big);
    big = undefined;
    // The allocation above may still be held by this turn's handles: collect on a later turn.
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
