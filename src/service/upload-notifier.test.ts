/** The service's batching of upload notifications, on a clock and timers the test drives. */
import { describe, expect, it } from 'vitest';
import { UploadNotifier } from './upload-notifier.js';

function harness(fail = false) {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  const sent: string[][] = [];
  const errors: unknown[] = [];
  const n = new UploadNotifier({
    intervalMs: 60_000,
    now: () => now,
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return { cancel: () => (t.live = false) };
    },
    send: async (paths) => {
      sent.push(paths);
      if (fail) throw new Error('boom');
    },
    onError: (err) => errors.push(err),
  });
  /** advance moves the clock to `to` and fires the timers due by then. */
  const advance = async (to: number) => {
    now = to;
    for (const t of timers) {
      if (t.live && t.at <= now) {
        t.live = false;
        t.fn();
      }
    }
    await new Promise((r) => setImmediate(r));
  };
  return { n, sent, errors, advance, pendingTimers: () => timers.filter((t) => t.live).length };
}

describe('UploadNotifier', () => {
  it('sends the first batch at once, then at most once per interval, each path once and in order', async () => {
    const h = harness();
    h.n.add(['a.mp3']);
    await h.advance(0);
    expect(h.sent).toEqual([['a.mp3']]);
    h.n.add(['b.mp3', 'c.mp3']);
    await h.advance(10_000);
    h.n.add(['c.mp3', 'd.mp3']);
    await h.advance(59_999);
    expect(h.sent).toEqual([['a.mp3']]);
    await h.advance(60_000);
    expect(h.sent).toEqual([['a.mp3'], ['b.mp3', 'c.mp3', 'd.mp3']]);
    expect(h.pendingTimers()).toBe(0);
  });

  it('flush sends what waits at once, and takes nothing after', async () => {
    const h = harness();
    h.n.add(['a.mp3']);
    await h.advance(0);
    h.n.add(['b.mp3']);
    await h.advance(1000);
    await h.n.flush();
    expect(h.sent).toEqual([['a.mp3'], ['b.mp3']]);
    h.n.add(['c.mp3']);
    await h.advance(200_000);
    expect(h.sent).toHaveLength(2);
    expect(h.n.size).toBe(0);
  });

  it('a failing send is handed to onError and does not stop the next batch', async () => {
    const h = harness(true);
    h.n.add(['a.mp3']);
    await h.advance(0);
    h.n.add(['b.mp3']);
    await h.advance(60_000);
    expect(h.sent).toEqual([['a.mp3'], ['b.mp3']]);
    expect(h.errors.map(String)).toEqual(['Error: boom', 'Error: boom']);
  });
});
