import { describe, expect, it } from 'vitest';
import { checkDeleteLimit } from './delete-limit.js';
import { plan, type Action, type PlanInput, type PlanLocal, type PlanRemote } from './plan.js';
import type { SyncRecord } from '../state/sync-records.js';
import { DeleteLimitError, SafetyError } from '../errors.js';
import { musicKey } from './layout.js';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);
const C = 'c'.repeat(32);

function input(over: {
  direction?: 'push' | 'pull' | 'sync';
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
    today: '2026-11-20',
    ...(over.nameProblem ? { nameProblem: over.nameProblem } : {}),
  };
}

const pick = (a: Action) => ({ kind: a.kind, path: a.path, reason: a.reason, ...((a.kind === 'upload' || a.kind === 'download') && a.replaces ? { replaces: true } : {}) });

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
      want: [{ kind: 'upload', path: 'x.mp3', reason: 'content-differs', replaces: true }],
    },
    {
      name: 'push: unknown remote MD5 with equal size counts as different',
      in: { local: [{ path: 'x.mp3', size: 10, md5: A }], remote: [{ path: 'x.mp3', size: 10 }] },
      want: [{ kind: 'upload', path: 'x.mp3', reason: 'content-differs', replaces: true }],
    },
    {
      name: 'push: remote-only file is left alone without --delete',
      in: { remote: [{ path: 'y.mp3', size: 3, md5: A }] },
      want: [{ kind: 'skip', path: 'y.mp3', reason: 'only-remote' }],
    },
    {
      name: 'push --delete: remote-only file goes to trash',
      in: { remote: [{ path: 'y.mp3', size: 3, md5: A }], delete: true },
      want: [{ kind: 'trash-remote', path: 'y.mp3', reason: 'deleted-locally' }],
    },
    {
      name: 'push: a name the remote cannot hold is an error, not an upload',
      in: { local: [{ path: 'bad.mp3', size: 1, md5: A }], nameProblem: () => 'too long' },
      want: [{ kind: 'error', path: 'bad.mp3', reason: 'name-not-allowed' }],
    },
    {
      name: 'pull: remote-only file is downloaded',
      in: { direction: 'pull', remote: [{ path: 'y.mp3', size: 3, md5: A }] },
      want: [{ kind: 'download', path: 'y.mp3', reason: 'new' }],
    },
    {
      name: 'pull: different local content is replaced, old kept',
      in: { direction: 'pull', local: [{ path: 'x.mp3', size: 10, md5: B }], remote: [{ path: 'x.mp3', size: 11, md5: A }] },
      want: [{ kind: 'download', path: 'x.mp3', reason: 'content-differs', replaces: true }],
    },
    {
      name: 'pull: local-only file is left alone without --delete',
      in: { direction: 'pull', local: [{ path: 'x.mp3', size: 10, md5: B }] },
      want: [{ kind: 'skip', path: 'x.mp3', reason: 'only-local' }],
    },
    {
      name: 'pull --delete: local-only file goes to local trash',
      in: { direction: 'pull', local: [{ path: 'x.mp3', size: 10, md5: B }], delete: true },
      want: [{ kind: 'trash-local', path: 'x.mp3', reason: 'deleted-remotely' }],
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
    expect(p.actions[0]).toMatchObject({ kind: 'upload', replaces: true, changed: { local: false, remote: true } });
  });
});

describe('plan: each action carries exactly its data', () => {
  const rec = (path: string, md5: string, size = 10): SyncRecord => ({ path, key: musicKey(path), size, md5 });
  const cases: Array<{ name: string; in: Parameters<typeof input>[0]; want: Action[] }> = [
    {
      name: 'a new file: an upload that replaces nothing',
      in: { local: [{ path: 'x.mp3', size: 10, md5: A }] },
      want: [{ kind: 'upload', path: 'x.mp3', key: 'music/x.mp3', size: 10, reason: 'new', replaces: false }],
    },
    {
      name: 'a pair never synced: replaces, nothing said of which side changed',
      in: { local: [{ path: 'x.mp3', size: 10, md5: A }], remote: [{ path: 'x.mp3', size: 11, md5: B }] },
      want: [{ kind: 'upload', path: 'x.mp3', key: 'music/x.mp3', size: 10, reason: 'content-differs', replaces: true }],
    },
    {
      name: 'push, changed here since the last sync',
      in: { local: [{ path: 'x.mp3', size: 10, md5: B }], remote: [{ path: 'x.mp3', size: 10, md5: A }], synced: [rec('x.mp3', A)] },
      want: [{ kind: 'upload', path: 'x.mp3', key: 'music/x.mp3', size: 10, reason: 'content-differs', replaces: true, changed: { local: true, remote: false } }],
    },
    {
      name: 'push over a remote change: both sides changed',
      in: { local: [{ path: 'x.mp3', size: 10, md5: B }], remote: [{ path: 'x.mp3', size: 10, md5: C }], synced: [rec('x.mp3', A)] },
      want: [{ kind: 'upload', path: 'x.mp3', key: 'music/x.mp3', size: 10, reason: 'content-differs', replaces: true, changed: { local: true, remote: true } }],
    },
    {
      name: 'pull over a local change: the download carries the MD5 to expect and the fingerprint to record',
      in: { direction: 'pull', local: [{ path: 'x.mp3', size: 10, md5: B }], remote: [{ path: 'x.mp3', size: 12, md5: A, fingerprint: 'fp-a' }], synced: [rec('x.mp3', A)] },
      want: [{ kind: 'download', path: 'x.mp3', key: 'music/x.mp3', size: 12, reason: 'content-differs', replaces: true, changed: { local: true, remote: false }, md5: A, fingerprint: 'fp-a' }],
    },
    {
      name: 'sync, changed on the remote only',
      in: { direction: 'sync', local: [{ path: 'x.mp3', size: 10, md5: A }], remote: [{ path: 'x.mp3', size: 12, md5: B }], synced: [rec('x.mp3', A)] },
      want: [{ kind: 'download', path: 'x.mp3', key: 'music/x.mp3', size: 12, reason: 'content-differs', replaces: true, changed: { local: false, remote: true }, md5: B }],
    },
    {
      name: 'sync, changed on both sides: a conflict moving both versions',
      in: { direction: 'sync', local: [{ path: 'x.mp3', size: 10, md5: B }], remote: [{ path: 'x.mp3', size: 12, md5: C, fingerprint: 'fp-c' }], synced: [rec('x.mp3', A)] },
      want: [{ kind: 'conflict', path: 'x.mp3', key: 'music/x.mp3', size: 22, reason: 'both-changed', conflictPath: 'x.conflict-remote-2026-11-20.mp3', md5: C, fingerprint: 'fp-c' }],
    },
    {
      name: 'sync, changed here and deleted on the remote: the change goes up, replacing nothing',
      in: { direction: 'sync', local: [{ path: 'x.mp3', size: 10, md5: B }], synced: [rec('x.mp3', A)] },
      want: [{ kind: 'upload', path: 'x.mp3', key: 'music/x.mp3', size: 10, reason: 'changed-here-deleted-remote', replaces: false }],
    },
    {
      name: 'sync, deleted on the remote without --delete: kept, a skip',
      in: { direction: 'sync', local: [{ path: 'x.mp3', size: 10, md5: A }], synced: [rec('x.mp3', A)] },
      want: [{ kind: 'skip', path: 'x.mp3', key: 'music/x.mp3', size: 0, reason: 'deleted-remotely' }],
    },
    {
      name: 'identical: a skip with the fingerprint to record',
      in: { local: [{ path: 'x.mp3', size: 10, md5: A }], remote: [{ path: 'x.mp3', size: 10, md5: A, fingerprint: 'fp-a' }] },
      want: [{ kind: 'skip', path: 'x.mp3', key: 'music/x.mp3', size: 0, reason: 'identical', fingerprint: 'fp-a' }],
    },
    {
      name: 'push --delete: the trash move knows the object size',
      in: { remote: [{ path: 'y.mp3', size: 3, md5: A }], delete: true },
      want: [{ kind: 'trash-remote', path: 'y.mp3', key: 'music/y.mp3', size: 0, reason: 'deleted-locally', remoteSize: 3 }],
    },
    {
      name: 'push, a rename: a server-side copy naming its source, and the old key with where it went',
      in: { local: [{ path: 'new.mp3', size: 10, md5: A }], remote: [{ path: 'old.mp3', size: 10, md5: A }], synced: [rec('old.mp3', A)] },
      want: [
        { kind: 'copy-remote', path: 'new.mp3', key: 'music/new.mp3', size: 0, reason: 'moved', from: 'music/old.mp3', fromPath: 'old.mp3' },
        { kind: 'trash-remote', path: 'old.mp3', key: 'music/old.mp3', size: 0, reason: 'moved', remoteSize: 10, movedTo: 'new.mp3' },
      ],
    },
    {
      name: 'pull, a rename: a local move from the old path, with the fingerprint to record',
      in: { direction: 'pull', local: [{ path: 'old.mp3', size: 10, md5: A }], remote: [{ path: 'new.mp3', size: 10, md5: A, fingerprint: 'fp-a' }], synced: [rec('old.mp3', A)] },
      want: [{ kind: 'move-local', path: 'new.mp3', key: 'music/new.mp3', size: 0, reason: 'moved', from: 'old.mp3', fingerprint: 'fp-a' }],
    },
    {
      name: 'pull, a copy: a local copy from the path holding the content',
      in: { direction: 'pull', local: [{ path: 'a.mp3', size: 10, md5: A }], remote: [{ path: 'a.mp3', size: 10, md5: A }, { path: 'b.mp3', size: 10, md5: A }] },
      want: [
        { kind: 'skip', path: 'a.mp3', key: 'music/a.mp3', size: 0, reason: 'identical' },
        { kind: 'copy-local', path: 'b.mp3', key: 'music/b.mp3', size: 0, reason: 'copied', from: 'a.mp3' },
      ],
    },
    {
      name: 'a name the target cannot hold: an error carrying what the name checker said',
      in: { local: [{ path: 'bad.mp3', size: 1, md5: A }], nameProblem: () => 'name too long for the remote' },
      want: [{ kind: 'error', path: 'bad.mp3', key: 'music/bad.mp3', size: 0, reason: 'name-not-allowed', problem: 'name too long for the remote' }],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(plan(input(c.in)).actions).toEqual(c.want);
    });
  }
});

describe('checkDeleteLimit', () => {
  const remote = Array.from({ length: 10 }, (_, i) => ({ path: `f${i}.mp3`, size: 1, md5: A }));
  it('refuses to trash more than half the remote by default', () => {
    const p = plan(input({ remote, local: remote.slice(0, 4).map((r) => ({ ...r, md5: A })), delete: true }));
    expect(() => checkDeleteLimit(p, { percent: 50 })).toThrow(SafetyError);
    expect(() => checkDeleteLimit(p, { percent: 60 })).not.toThrow();
    expect(() => checkDeleteLimit(p, { count: 5 })).toThrow(/6 of 10 remote files/);
  });
  it('carries its numbers, not only a sentence', () => {
    const p = plan(input({ remote, local: remote.slice(0, 4), delete: true }));
    let err: unknown;
    try {
      checkDeleteLimit(p, { count: 5 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeleteLimitError);
    expect((err as DeleteLimitError).facts).toEqual({ direction: 'push', side: 'remote', n: 6, base: 10, share: 60, limit: { count: 5 } });
    expect((err as Error).message).toBe('push --delete would move 6 of 10 remote files (60%) to trash, over the limit of 5 files; nothing was changed (raise it with --max-delete)');
  });
  it('allows exactly the limit', () => {
    const p = plan(input({ remote, local: remote.slice(0, 5).map((r) => ({ ...r })), delete: true }));
    expect(() => checkDeleteLimit(p, { percent: 50 })).not.toThrow();
  });
});
