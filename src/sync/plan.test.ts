import { describe, expect, it } from 'vitest';
import { checkDeleteLimit, plan, type Action, type PlanInput, type PlanLocal, type PlanRemote } from './plan.js';
import type { SyncRecord } from '../state/sync-records.js';
import { SafetyError } from '../errors.js';
import { musicKey } from './layout.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

function input(over: {
  direction?: 'push' | 'pull';
  local?: PlanLocal[];
  remote?: Array<Partial<PlanRemote> & { path: string; size: number }>;
  synced?: SyncRecord[];
  delete?: boolean;
  nameProblem?: PlanInput['nameProblem'];
}): PlanInput {
  return {
    direction: over.direction ?? 'push',
    local: new Map((over.local ?? []).map((l) => [l.path, l])),
    remote: new Map((over.remote ?? []).map((r) => [r.path, { key: musicKey(r.path), ...r }])),
    synced: new Map((over.synced ?? []).map((s) => [s.path, s])),
    delete: over.delete ?? false,
    keyFor: musicKey,
    ...(over.nameProblem ? { nameProblem: over.nameProblem } : {}),
  };
}

const pick = (a: Action) => ({ kind: a.kind, path: a.path, reason: a.reason, ...(a.replaces ? { replaces: true } : {}) });

describe('plan', () => {
  const cases: Array<{ name: string; in: Parameters<typeof input>[0]; want: Array<ReturnType<typeof pick>> }> = [
    {
      name: 'push: new file is uploaded',
      in: { local: [{ path: 'x.mp3', size: 10, md5: A }] },
      want: [{ kind: 'upload', path: 'x.mp3', reason: 'new' }],
    },
    {
      name: 'push: same content is skipped',
      in: { local: [{ path: 'x.mp3', size: 10, md5: A }], remote: [{ path: 'x.mp3', size: 10, md5: A }] },
      want: [{ kind: 'skip', path: 'x.mp3', reason: 'identical' }],
    },
    {
      name: 'push: same-size tag edit is sent (content decides, not size)',
      in: { local: [{ path: 'x.mp3', size: 10, md5: B }], remote: [{ path: 'x.mp3', size: 10, md5: A }] },
      want: [{ kind: 'upload', path: 'x.mp3', reason: 'content differs', replaces: true }],
    },
    {
      name: 'push: unknown remote MD5 with equal size counts as different',
      in: { local: [{ path: 'x.mp3', size: 10, md5: A }], remote: [{ path: 'x.mp3', size: 10 }] },
      want: [{ kind: 'upload', path: 'x.mp3', reason: 'content differs', replaces: true }],
    },
    {
      name: 'push: remote-only file is left alone without --delete',
      in: { remote: [{ path: 'y.mp3', size: 3, md5: A }] },
      want: [{ kind: 'skip', path: 'y.mp3', reason: 'only on remote' }],
    },
    {
      name: 'push --delete: remote-only file goes to trash',
      in: { remote: [{ path: 'y.mp3', size: 3, md5: A }], delete: true },
      want: [{ kind: 'trash-remote', path: 'y.mp3', reason: 'deleted locally' }],
    },
    {
      name: 'push: a name the remote cannot hold is an error, not an upload',
      in: { local: [{ path: 'bad.mp3', size: 1, md5: A }], nameProblem: () => 'too long' },
      want: [{ kind: 'error', path: 'bad.mp3', reason: 'name not allowed' }],
    },
    {
      name: 'pull: remote-only file is downloaded',
      in: { direction: 'pull', remote: [{ path: 'y.mp3', size: 3, md5: A }] },
      want: [{ kind: 'download', path: 'y.mp3', reason: 'new' }],
    },
    {
      name: 'pull: different local content is replaced, old kept',
      in: { direction: 'pull', local: [{ path: 'x.mp3', size: 10, md5: B }], remote: [{ path: 'x.mp3', size: 11, md5: A }] },
      want: [{ kind: 'download', path: 'x.mp3', reason: 'content differs', replaces: true }],
    },
    {
      name: 'pull: local-only file is left alone without --delete',
      in: { direction: 'pull', local: [{ path: 'x.mp3', size: 10, md5: B }] },
      want: [{ kind: 'skip', path: 'x.mp3', reason: 'only local' }],
    },
    {
      name: 'pull --delete: local-only file goes to local trash',
      in: { direction: 'pull', local: [{ path: 'x.mp3', size: 10, md5: B }], delete: true },
      want: [{ kind: 'trash-local', path: 'x.mp3', reason: 'deleted on remote' }],
    },
    {
      name: 'pull: identical is skipped',
      in: { direction: 'pull', local: [{ path: 'x.mp3', size: 10, md5: A }], remote: [{ path: 'x.mp3', size: 10, md5: A }] },
      want: [{ kind: 'skip', path: 'x.mp3', reason: 'identical' }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(plan(input(c.in)).actions.map(pick)).toEqual(c.want);
    });
  }

  it('uploads to the key the remote already uses (an NFD spelling), not a second key', () => {
    const nfd = 'music/Bjo\u0308rk.mp3';
    const p = plan(input({ local: [{ path: 'Björk.mp3', size: 5, md5: B }], remote: [{ path: 'Björk.mp3', key: nfd, size: 5, md5: A }] }));
    expect(p.actions).toHaveLength(1);
    expect(p.actions[0]?.key).toBe(nfd);
  });

  it('says when an upload overwrites a remote change made since the last sync', () => {
    const p = plan(input({
      local: [{ path: 'x.mp3', size: 5, md5: A }],
      remote: [{ path: 'x.mp3', size: 5, md5: B }],
      synced: [{ path: 'x.mp3', key: 'music/x.mp3', size: 5, md5: A }],
    }));
    expect(p.actions[0]?.detail).toMatch(/remote copy changed since the last sync/);
  });
});

describe('checkDeleteLimit', () => {
  const remote = Array.from({ length: 10 }, (_, i) => ({ path: `f${i}.mp3`, size: 1, md5: A }));
  it('refuses to trash more than half the remote by default', () => {
    const p = plan(input({ remote, local: remote.slice(0, 4).map((r) => ({ ...r, md5: A })), delete: true }));
    expect(() => checkDeleteLimit(p, { percent: 50 })).toThrow(SafetyError);
    expect(() => checkDeleteLimit(p, { percent: 60 })).not.toThrow();
    expect(() => checkDeleteLimit(p, { count: 5 })).toThrow(/6 of 10 remote files/);
  });
  it('allows exactly the limit', () => {
    const p = plan(input({ remote, local: remote.slice(0, 5).map((r) => ({ ...r })), delete: true }));
    expect(() => checkDeleteLimit(p, { percent: 50 })).not.toThrow();
  });
});
