import { describe, expect, it } from 'vitest';
import { renderPlan, renderStatus, resultJson } from './report.js';
import { summarize, tally } from '../sync/run-summary.js';
import { summaryLine } from './commands/sync-run.js';
import type { Action, Plan } from '../sync/plan.js';
import type { SyncResult } from '../sync/engine.js';
import { musicKey } from '../sync/layout.js';

const up = (path: string, size = 10): Action => ({ kind: 'upload', path, key: musicKey(path), size, reason: 'new', replaces: false });
const same = (path: string): Action => ({ kind: 'skip', path, key: musicKey(path), size: 0, reason: 'identical' });

function result(actions: Action[], exec?: { done: Action[]; failed?: Action[]; fatal?: Error }): SyncResult {
  const plan: Plan = { direction: 'push', actions, identical: ['same.mp3'], remoteCount: 1, localCount: actions.length + 1 };
  return {
    runId: 'run-1',
    scoped: false,
    plan,
    problems: [],
    hashed: 0,
    refreshed: 0,
    listed: false,
    elapsedMs: 1,
    ...(exec
      ? {
          exec: {
            done: exec.done,
            failed: (exec.failed ?? []).map((a) => ({ path: a.path, kind: a.kind, message: `${a.path}: broken`, error: new Error('broken') })),
            bytes: exec.done.reduce((n, a) => n + a.size, 0),
            hashed: 0,
            ...(exec.fatal ? { fatal: exec.fatal } : {}),
          },
        }
      : {}),
  };
}

const where = { library: '/music', remote: 's3://b/dj' };
const parse = (r: SyncResult, all = false) => JSON.parse([...resultJson('push', where, r, all)].join('')) as { summary: Record<string, number>; actions: Array<{ path: string; status: string; error?: string }> };
const statuses = (doc: ReturnType<typeof parse>) => Object.fromEntries(doc.actions.map((a) => [a.path, a.status]));

describe('resultJson', () => {
  const a = up('a.mp3');
  const b = up('b.mp3');
  const c = up('c.mp3');
  const skip = same('kept.mp3');

  it('marks every action of a finished run done or failed, and leaves identical files out', () => {
    const doc = parse(result([a, b, skip, c], { done: [a, c], failed: [b] }));
    expect(statuses(doc)).toEqual({ 'a.mp3': 'done', 'b.mp3': 'failed', 'c.mp3': 'done' });
    expect(doc.actions.find((x) => x.path === 'b.mp3')?.error).toBe('b.mp3: broken');
    expect(doc.summary).toMatchObject({ transferred: 2, failed: 1, unchanged: 2 });
  });

  it('tells the actions a stopped run never started', () => {
    const doc = parse(result([a, b, c], { done: [a], fatal: new Error('access denied') }));
    expect(statuses(doc)).toEqual({ 'a.mp3': 'done', 'b.mp3': 'not started', 'c.mp3': 'not started' });
  });

  it('lists a dry run as planned, and with `all` the identical files too, in path order', () => {
    const doc = parse(result([c, skip, a]), true);
    expect(doc.actions.map((x) => x.path)).toEqual(['a.mp3', 'c.mp3', 'kept.mp3', 'same.mp3']);
    expect(new Set(doc.actions.map((x) => x.status))).toEqual(new Set(['planned']));
    expect(parse(result([c, skip, a])).actions.map((x) => x.path)).toEqual(['c.mp3', 'a.mp3']);
  });

  it('stays one JSON document when the actions run past a piece', () => {
    const many = Array.from({ length: 3000 }, (_, i) => up(`Artist ${i}/Album/${String(i).padStart(4, '0')} Track.mp3`));
    const pieces = [...resultJson('push', where, result(many, { done: many }))];
    expect(pieces.length).toBeGreaterThan(2);
    const doc = JSON.parse(pieces.join('')) as ReturnType<typeof parse>;
    expect(doc.actions).toHaveLength(3000);
    expect(new Set(doc.actions.map((x) => x.status))).toEqual(new Set(['done']));
  });
});

describe('renderPlan', () => {
  it('lists one line per action, identical files only with `all`', () => {
    const r = result([up('a.mp3'), same('kept.mp3')]);
    expect(renderPlan(r.plan)).toBe('upload       a.mp3  (new, 10 B)\n');
    expect(renderPlan(r.plan, true).split('\n').filter(Boolean)).toHaveLength(3);
  });
});

describe('words for a plan with moves, a conflict and deletions', () => {
  const moved: Action = { kind: 'copy-remote', path: 'New/a.mp3', key: musicKey('New/a.mp3'), size: 0, reason: 'moved', from: 'music/Old/a.mp3', fromPath: 'Old/a.mp3' };
  const oldKey: Action = { kind: 'trash-remote', path: 'Old/a.mp3', key: musicKey('Old/a.mp3'), size: 0, reason: 'moved', remoteSize: 10, movedTo: 'New/a.mp3' };
  const clash: Action = { kind: 'conflict', path: 'x.mp3', key: musicKey('x.mp3'), size: 20, reason: 'both-changed', conflictPath: 'x.conflict-bob-2026-11-20.mp3' };
  const gone: Action = { kind: 'trash-remote', path: 'gone.mp3', key: musicKey('gone.mp3'), size: 0, reason: 'deleted-locally', remoteSize: 3 };
  const kept: Action = { kind: 'skip', path: 'kept.mp3', key: musicKey('kept.mp3'), size: 0, reason: 'deleted-locally' };
  const tags: Action = { kind: 'upload', path: 't.mp3', key: musicKey('t.mp3'), size: 7, reason: 'tags-changed', replaces: true, changed: { local: true, remote: false } };
  const actions = [moved, oldKey, clash, gone, kept, tags];

  it('tally counts moves apart from deletions and transfers', () => {
    expect(tally(actions)).toEqual({ uploaded: 1, downloaded: 0, bytes: 27, moved: 1, tagOnly: 1, conflicts: 1, trashed: 1 });
  });

  it('the --json actions keep the words in reason and detail, and add the code', () => {
    const doc = JSON.parse([...resultJson('sync', where, result(actions))].join('')) as { actions: Array<Record<string, unknown>> };
    const byPath = Object.fromEntries(doc.actions.map((a) => [a.path, a]));
    expect(byPath['New/a.mp3']).toMatchObject({ kind: 'copy-remote', reason: 'moved', code: 'moved', detail: 'from Old/a.mp3, on the server', from: 'music/Old/a.mp3' });
    expect(byPath['Old/a.mp3']).toMatchObject({ kind: 'trash-remote', reason: 'moved', detail: 'to New/a.mp3', movedTo: 'New/a.mp3' });
    expect(byPath['x.mp3']).toMatchObject({ reason: 'changed on both sides', code: 'both-changed', conflictPath: 'x.conflict-bob-2026-11-20.mp3' });
    expect(byPath['kept.mp3']).toMatchObject({ reason: 'deleted locally', code: 'deleted-locally', detail: 'kept on the remote; --delete propagates deletions' });
    expect(byPath['t.mp3']).toMatchObject({ reason: 'tags changed', code: 'tags-changed', detail: 'changed here; old version kept in remote trash', size: 7 });
    expect(byPath['gone.mp3']).not.toHaveProperty('detail');
  });

  it('renderPlan says why, with the detail and the bytes', () => {
    expect(renderPlan(result(actions).plan)).toContain('copy-remote  New/a.mp3  (moved: from Old/a.mp3, on the server)\n');
    expect(renderPlan(result(actions).plan)).toContain('upload       t.mp3  (tags changed: changed here; old version kept in remote trash, 7 B)\n');
  });

  it('renderStatus groups by meaning and tells where moves come from', () => {
    const out = renderStatus(where, result(actions));
    expect(out).toContain('moved or copied (no transfer needed): 1\n  New/a.mp3: from Old/a.mp3, on the server\n');
    expect(out).toContain('deleted on one side (--delete propagates): 3\n  Old/a.mp3: to New/a.mp3\n  gone.mp3\n  kept.mp3: kept on the remote; --delete propagates deletions\n');
    expect(out).toContain('tags changed (same audio): 1\n  t.mp3\n');
  });

  it('the summary line names the skips in words', () => {
    const only: Action[] = ['a', 'b'].map((x) => ({ kind: 'skip', path: `${x}.mp3`, key: musicKey(`${x}.mp3`), size: 0, reason: 'only-remote' }));
    expect(summaryLine('push', summarize('push', result([...only, kept])))).toMatch(/3 left as they are \(2 only on remote, 1 deleted locally\)/);
  });

  it('the summary line and --json tell the files whose tags were read again, only when there are some', () => {
    const r = { ...result([same('same.mp3')], { done: [] }), refreshed: 1200 };
    expect(summaryLine('push', summarize('push', r))).toMatch(/, 2 unchanged, tags of 1,200 files refreshed, /);
    expect(summaryLine('push', summarize('push', result([same('same.mp3')], { done: [] })))).not.toMatch(/refreshed/);
    expect(parse(r).summary.refreshed).toBe(1200);
  });
});
