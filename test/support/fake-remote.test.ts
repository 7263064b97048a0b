import { describe, expect, it } from 'vitest';
import { describeRemoteConformance } from '../../src/remote/remote-conformance.js';
import { TransientError } from '../../src/errors.js';
import { FakeRemote } from './fake-remote.js';

// The fake passes the whole suite: no capability differs from what it claims.
describeRemoteConformance('FakeRemote', async () => ({ remote: new FakeRemote(), cleanup: async () => {} }));

describe('FakeRemote controls', () => {
  it('counts calls, injects failures once, and holds a put until released', async () => {
    const r = new FakeRemote();
    r.fail('put', new TransientError('503'), { key: 'a' });
    await expect(r.put('a', { data: Buffer.from('x') })).rejects.toBeInstanceOf(TransientError);
    await r.put('a', { data: Buffer.from('x') });
    expect(r.calls.put).toBe(2);
    r.hold('put');
    let progress = 0;
    const p = r.put('b', { data: Buffer.alloc(1000) }, { onProgress: (n) => (progress += n) });
    await r.whenHeld(1);
    expect(progress).toBe(500);
    r.release();
    await p;
    expect(progress).toBe(1000);
    expect(r.keys()).toEqual(['a', 'b']);
  });

  it('a held put rejects when its signal aborts and takes its progress back', async () => {
    const r = new FakeRemote();
    r.hold('put');
    const ac = new AbortController();
    let progress = 0;
    const p = r.put('b', { data: Buffer.alloc(1000) }, { signal: ac.signal, onProgress: (n) => (progress += n) });
    await r.whenHeld(1);
    ac.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(progress).toBe(0);
    expect(r.keys()).toEqual([]);
  });

  it('without copy or move the capabilities are absent', () => {
    const r = new FakeRemote({ copy: false, move: false });
    expect(r.copy).toBeUndefined();
    expect(r.move).toBeUndefined();
  });
});
