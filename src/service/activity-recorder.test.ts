import { describe, expect, it } from 'vitest';
import { openStateDb } from '../state/state-db.js';
import { ActivityLog } from '../state/activity-log.js';
import type { RunEvent, RunEventBody } from '../sync/events.js';
import type { Action } from '../sync/plan.js';
import { ActivityRecorder, BUCKET_MS, BUCKETS } from './activity-recorder.js';

const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);

function setup() {
  const log = new ActivityLog(openStateDb(':memory:'));
  const rec = new ActivityRecorder(log);
  let seq = 0;
  const hear = (body: RunEventBody, at = T0, runId = 'run1') => rec.hear({ ...body, runId, seq: ++seq, at } as RunEvent);
  return { log, rec, hear };
}

const upload = (path: string, size: number, reason: 'new' | 'tags-changed' | 'content-differs' = 'new'): Action => ({ kind: 'upload', path, key: `music/${path}`, size, reason, replaces: false });

describe('activity recorder', () => {
  it('records each action done or failed, with its reason, source path and error; skips none and records no skip', () => {
    const { log, hear } = setup();
    hear({ type: 'run-started', direction: 'push', root: '/m', remote: 's3://b', dryRun: false, scoped: false });
    hear({ type: 'action-started', id: 0, action: upload('a.mp3', 100) });
    hear({ type: 'action-finished', id: 0, action: upload('a.mp3', 100) }, T0 + 1);
    hear({ type: 'action-finished', id: 1, action: upload('b.mp3', 50, 'tags-changed') }, T0 + 2);
    hear({ type: 'action-failed', id: 2, action: upload('c.mp3', 70, 'content-differs'), error: 'c.mp3: EACCES: permission denied', cause: undefined }, T0 + 3);
    hear({ type: 'action-finished', id: 3, action: { kind: 'copy-remote', path: 'New/d.mp3', key: 'music/New/d.mp3', size: 0, reason: 'moved', from: 'music/Old/d.mp3', fromPath: 'Old/d.mp3' } }, T0 + 4);
    hear({ type: 'action-finished', id: 4, action: { kind: 'trash-remote', path: 'Old/d.mp3', key: 'music/Old/d.mp3', size: 0, reason: 'moved', movedTo: 'New/d.mp3', remoteSize: 9 } }, T0 + 5);
    hear({ type: 'action-finished', id: 5, action: { kind: 'move-local', path: 'N/e.mp3', key: 'music/N/e.mp3', size: 0, reason: 'moved', from: 'O/e.mp3' } }, T0 + 6);
    hear({ type: 'action-failed', id: 6, action: { kind: 'error', path: 'bad\\name.mp3', key: 'music/bad\\name.mp3', size: 0, reason: 'name-not-allowed', problem: 'backslash' }, error: 'bad\\name.mp3: backslash', cause: undefined }, T0 + 7);
    hear({ type: 'run-ended', totals: { done: 5, failed: 2, bytes: 150, problems: 0, interrupted: false }, elapsedMs: 7 });
    const rows = log.query().rows.reverse();
    expect(rows.map((r) => [r.kind, r.reason, r.path, r.from, r.bytes, r.ok, r.error])).toEqual([
      ['upload', 'new', 'a.mp3', undefined, 100, true, undefined],
      ['upload', 'tags-changed', 'b.mp3', undefined, 50, true, undefined],
      ['upload', 'content-differs', 'c.mp3', undefined, 0, false, 'c.mp3: EACCES: permission denied'],
      ['copy-remote', 'moved', 'New/d.mp3', 'Old/d.mp3', 0, true, undefined],
      ['trash-remote', 'moved', 'Old/d.mp3', undefined, 0, true, undefined],
      ['move-local', 'moved', 'N/e.mp3', 'O/e.mp3', 0, true, undefined],
      ['upload', 'name-not-allowed', 'bad\\name.mp3', undefined, 0, false, 'bad\\name.mp3: backslash'],
    ]);
    expect(rows.every((r) => r.runId === 'run1')).toBe(true);
    expect(rows.map((r) => r.at)).toEqual([1, 2, 3, 4, 5, 6, 7].map((d) => T0 + d));
  });

  it('counts a refused name in a pull as a download', () => {
    const { log, hear } = setup();
    hear({ type: 'run-started', direction: 'pull', root: '/m', remote: 's3://b', dryRun: false, scoped: false }, T0, 'p1');
    hear({ type: 'action-failed', id: 0, action: { kind: 'error', path: 'CON.mp3', key: 'music/CON.mp3', size: 0, reason: 'name-not-allowed', problem: 'reserved' }, error: 'reserved', cause: undefined }, T0, 'p1');
    expect(log.query().rows[0]).toMatchObject({ kind: 'download', reason: 'name-not-allowed', ok: false, runId: 'p1' });
  });

  it('records restores as restore rows under one id', () => {
    const { log, rec } = setup();
    rec.restored('remote', [{ path: 'a.mp3', bytes: 10 }, { path: 'b.mp3', error: 'b.mp3: the library holds another file there' }], T0);
    const rows = log.query().rows.reverse();
    expect(rows.map((r) => [r.kind, r.reason, r.path, r.bytes, r.ok, r.error])).toEqual([
      ['restore', 'remote-trash', 'a.mp3', 10, true, undefined],
      ['restore', 'remote-trash', 'b.mp3', 0, false, 'b.mp3: the library holds another file there'],
    ]);
    expect(rows[0]?.runId).toBe(rows[1]?.runId);
    expect(rows[0]?.runId).toMatch(/^20261130T090000-[0-9a-f]{6}$/);
  });

  it('keeps bytes and finished transfers per minute over the last hour, oldest first', () => {
    const { rec, hear } = setup();
    const a = upload('a.mp3', 300);
    // Two hours ago: out of the chart.
    hear({ type: 'action-progress', id: 0, bytes: 999 }, T0 - 2 * 3600_000);
    hear({ type: 'action-progress', id: 0, bytes: 100 }, T0 + 5_000);
    hear({ type: 'action-progress', id: 0, bytes: 200 }, T0 + 59_999);
    hear({ type: 'action-finished', id: 0, action: a }, T0 + 60_000);
    // A failed attempt's bytes taken back, then sent again.
    hear({ type: 'action-progress', id: 1, bytes: 50 }, T0 + 3 * BUCKET_MS);
    hear({ type: 'action-progress', id: 1, bytes: -50 }, T0 + 4 * BUCKET_MS);
    // A trash move is no file of the run's work (as in the status): not counted.
    hear({ type: 'action-finished', id: 2, action: { kind: 'trash-remote', path: 'x', key: 'music/x', size: 0, reason: 'deleted-locally', remoteSize: 1 } }, T0 + 4 * BUCKET_MS);
    const t = rec.throughput(T0 + 10 * BUCKET_MS + 30_000);
    expect(t.bucketMs).toBe(BUCKET_MS);
    expect(t.points).toHaveLength(BUCKETS);
    expect(t.points.at(-1)?.at).toBe(T0 + 10 * BUCKET_MS);
    expect(t.points[0]?.at).toBe(T0 + 10 * BUCKET_MS - (BUCKETS - 1) * BUCKET_MS);
    const byMinute = new Map(t.points.map((p) => [(p.at - T0) / BUCKET_MS, p]));
    expect(byMinute.get(0)).toEqual({ at: T0, bytes: 300, files: 0 });
    expect(byMinute.get(1)).toEqual({ at: T0 + BUCKET_MS, bytes: 0, files: 1 });
    expect(byMinute.get(3)?.bytes).toBe(50);
    expect(byMinute.get(4)).toEqual({ at: T0 + 4 * BUCKET_MS, bytes: 0, files: 0 });
    expect(t.points.reduce((s, p) => s + p.bytes, 0)).toBe(350);
    // An hour later, all of it has left the chart.
    expect(rec.throughput(T0 + 2 * 3600_000).points.every((p) => p.bytes === 0 && p.files === 0)).toBe(true);
  });
});
