import { describe, expect, it } from 'vitest';
import { renderPlan, resultJson } from './report.js';
import type { Action, Plan } from '../sync/plan.js';
import type { SyncResult } from '../sync/engine.js';
import { musicKey } from '../sync/layout.js';

const up = (path: string, size = 10): Action => ({ kind: 'upload', path, key: musicKey(path), size, reason: 'new', replaces: false });
const same = (path: string): Action => ({ kind: 'skip', path, key: musicKey(path), size: 0, reason: 'identical' });

function result(actions: Action[], exec?: { done: Action[]; failed?: Action[]; fatal?: Error }): SyncResult {
  const plan: Plan = { direction: 'push', actions, identical: ['same.mp3'], remoteCount: 1, localCount: actions.length + 1 };
  return {
    plan,
    problems: [],
    hashed: 0,
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
