/**
 * Table-driven planner tests for what a music library does: renames and
 * moved folders, tag-only edits, touches, two-way sync against the last
 * synced state (changes, deletions, conflicts), NFC/NFD and case clashes.
 */
import { describe, expect, it } from 'vitest';
import { checkDeleteLimit } from './delete-limit.js';
import { conflictName, plan, type Action, type Direction, type PlanInput, type PlanLocal, type PlanRemote } from './plan.js';
import type { SyncRecord } from '../state/sync-records.js';
import { caseClashes } from '../library/names.js';
import { musicKey } from './layout.js';
import { SafetyError } from '../errors.js';

const [A, B, C] = ['a', 'b', 'c'].map((x) => x.repeat(32)) as [string, string, string];
const AUDIO = 'f'.repeat(64);
const OTHER_AUDIO = 'e'.repeat(64);

type RemoteIn = Partial<PlanRemote> & { path: string; size: number };
interface Case {
  name: string;
  direction?: Direction;
  local?: PlanLocal[];
  remote?: RemoteIn[];
  /** Synced records; key and size default from the path and 1. */
  synced?: Array<Partial<SyncRecord> & { path: string; md5: string }>;
  delete?: boolean;
  refuse?: Record<string, string>;
  want: Array<Partial<Action>>;
}

function input(c: Case): PlanInput {
  return {
    direction: c.direction ?? 'push',
    local: new Map((c.local ?? []).map((l) => [l.path, l])),
    remote: new Map((c.remote ?? []).map((r) => [r.path, { key: musicKey(r.path), ...r }])),
    synced: new Map((c.synced ?? []).map((s) => [s.path, { key: musicKey(s.path), size: 1, ...s }])),
    delete: c.delete ?? false,
    keyFor: musicKey,
    today: '2026-11-20',
    ...(c.refuse ? { refuse: new Map(Object.entries(c.refuse)) } : {}),
  };
}

/** Only the fields a case names are compared. */
function check(c: Case): void {
  const got = plan(input(c)).actions;
  expect(got.map((a) => a.path)).toEqual(c.want.map((w) => w.path));
  c.want.forEach((w, i) => expect(got[i]).toMatchObject(w));
}

const l = (path: string, md5: string, audioHash?: string, size = 1): PlanLocal => ({ path, size, md5, ...(audioHash ? { audioHash } : {}) });
const r = (path: string, md5: string, more: Partial<PlanRemote> = {}): RemoteIn => ({ path, size: 1, md5, ...more });

const cases: Case[] = [
  // --- new, changed, touched, tags ---
  { name: 'push: new file', local: [l('x.mp3', A)], want: [{ path: 'x.mp3', kind: 'upload', reason: 'new' }] },
  {
    name: 'push: touched only (same content, new mtime) is nothing to do',
    local: [l('x.mp3', A)],
    remote: [r('x.mp3', A)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'skip', reason: 'identical' }],
  },
  {
    name: 'push: audio changed',
    local: [l('x.mp3', B, OTHER_AUDIO)],
    remote: [r('x.mp3', A, { audioHash: AUDIO })],
    want: [{ path: 'x.mp3', kind: 'upload', reason: 'content-differs', replaces: true }],
  },
  {
    name: 'push: tags changed, audio the same (audio hash from the catalog)',
    local: [l('x.mp3', B, AUDIO)],
    remote: [r('x.mp3', A, { audioHash: AUDIO })],
    want: [{ path: 'x.mp3', kind: 'upload', reason: 'tags-changed', replaces: true }],
  },
  {
    name: 'push: tags changed, audio hash known from the last sync only',
    local: [l('x.mp3', B, AUDIO)],
    remote: [r('x.mp3', A)],
    synced: [{ path: 'x.mp3', md5: A, audioHash: AUDIO }],
    want: [{ path: 'x.mp3', kind: 'upload', reason: 'tags-changed' }],
  },
  {
    name: 'pull: tags changed on the remote',
    direction: 'pull',
    local: [l('x.mp3', A, AUDIO)],
    remote: [r('x.mp3', B, { audioHash: AUDIO })],
    want: [{ path: 'x.mp3', kind: 'download', reason: 'tags-changed', replaces: true }],
  },
  // --- renames and moved folders ---
  {
    name: 'push: renamed file becomes a server-side copy plus trash of the old key',
    local: [l('new name.mp3', A)],
    remote: [r('old name.mp3', A)],
    synced: [{ path: 'old name.mp3', md5: A }],
    want: [
      { path: 'new name.mp3', kind: 'copy-remote', reason: 'moved', from: 'music/old name.mp3', size: 0 },
      { path: 'old name.mp3', kind: 'trash-remote', reason: 'moved' },
    ],
  },
  {
    name: 'push: moved folder, every track copied on the server, nothing uploaded',
    local: [l('Artist/Album (Remastered)/01.mp3', A), l('Artist/Album (Remastered)/02.mp3', B)],
    remote: [r('Artist/Album/01.mp3', A), r('Artist/Album/02.mp3', B)],
    synced: [{ path: 'Artist/Album/01.mp3', md5: A }, { path: 'Artist/Album/02.mp3', md5: B }],
    want: [
      { path: 'Artist/Album (Remastered)/01.mp3', kind: 'copy-remote', reason: 'moved', size: 0 },
      { path: 'Artist/Album (Remastered)/02.mp3', kind: 'copy-remote', reason: 'moved', size: 0 },
      { path: 'Artist/Album/01.mp3', kind: 'trash-remote', reason: 'moved' },
      { path: 'Artist/Album/02.mp3', kind: 'trash-remote', reason: 'moved' },
    ],
  },
  {
    name: 'push: same content as an object never synced from here is copied, the object left alone',
    local: [l('mine.mp3', A)],
    remote: [r('theirs.mp3', A)],
    want: [
      { path: 'mine.mp3', kind: 'copy-remote', reason: 'copied', from: 'music/theirs.mp3' },
      { path: 'theirs.mp3', kind: 'skip', reason: 'only-remote' },
    ],
  },
  {
    name: 'push: a duplicate of a file still here is a copy; the original stays',
    local: [l('a.mp3', A), l('b.mp3', A)],
    remote: [r('a.mp3', A)],
    synced: [{ path: 'a.mp3', md5: A }],
    want: [
      { path: 'a.mp3', kind: 'skip', reason: 'identical' },
      { path: 'b.mp3', kind: 'copy-remote', reason: 'copied' },
    ],
  },
  {
    name: 'push: content differs in size from the old object is no move',
    local: [l('new.mp3', A, undefined, 2)],
    remote: [r('old.mp3', A)],
    synced: [{ path: 'old.mp3', md5: A }],
    want: [
      { path: 'new.mp3', kind: 'upload', reason: 'new' },
      { path: 'old.mp3', kind: 'skip', reason: 'only-remote' },
    ],
  },
  {
    name: 'push: a move interrupted after its copy is finished: the old key goes to trash',
    local: [l('new.mp3', A)],
    remote: [r('new.mp3', A), r('old.mp3', A)],
    synced: [{ path: 'old.mp3', md5: A, movedTo: 'new.mp3' }, { path: 'new.mp3', md5: A }],
    want: [
      { path: 'new.mp3', kind: 'skip', reason: 'identical' },
      { path: 'old.mp3', kind: 'trash-remote', reason: 'moved', movedTo: 'new.mp3' },
    ],
  },
  {
    name: 'push: a duplicate deleted here (no move recorded) is left on the remote',
    local: [l('keep.mp3', A)],
    remote: [r('keep.mp3', A), r('dupe.mp3', A)],
    synced: [{ path: 'keep.mp3', md5: A }, { path: 'dupe.mp3', md5: A }],
    want: [
      { path: 'dupe.mp3', kind: 'skip', reason: 'only-remote' },
      { path: 'keep.mp3', kind: 'skip', reason: 'identical' },
    ],
  },
  {
    name: 'pull: a file moved on the remote is renamed here, not downloaded',
    direction: 'pull',
    local: [l('old.mp3', A)],
    remote: [r('new.mp3', A)],
    synced: [{ path: 'old.mp3', md5: A }],
    want: [{ path: 'new.mp3', kind: 'move-local', reason: 'moved', from: 'old.mp3', size: 0 }],
  },
  {
    name: 'pull: a remote copy of a file still on the remote is a local copy',
    direction: 'pull',
    local: [l('a.mp3', A)],
    remote: [r('a.mp3', A), r('b.mp3', A)],
    synced: [{ path: 'a.mp3', md5: A }],
    want: [
      { path: 'a.mp3', kind: 'skip', reason: 'identical' },
      { path: 'b.mp3', kind: 'copy-local', reason: 'copied', from: 'a.mp3' },
    ],
  },
  {
    name: 'pull: one source wanted at two new paths is copied to both, never moved',
    direction: 'pull',
    local: [l('old.mp3', A)],
    remote: [r('n1.mp3', A), r('n2.mp3', A)],
    synced: [{ path: 'old.mp3', md5: A }],
    want: [
      { path: 'n1.mp3', kind: 'copy-local', reason: 'moved' },
      { path: 'n2.mp3', kind: 'copy-local', reason: 'moved' },
      { path: 'old.mp3', kind: 'skip', reason: 'only-local' },
    ],
  },
  {
    name: 'sync: a rename on this side is a server-side move',
    direction: 'sync',
    local: [l('new.mp3', A)],
    remote: [r('old.mp3', A)],
    synced: [{ path: 'old.mp3', md5: A }],
    want: [
      { path: 'new.mp3', kind: 'copy-remote', reason: 'moved' },
      { path: 'old.mp3', kind: 'trash-remote', reason: 'moved' },
    ],
  },
  {
    name: 'sync: a rename on the remote is a local move',
    direction: 'sync',
    local: [l('old.mp3', A)],
    remote: [r('new.mp3', A)],
    synced: [{ path: 'old.mp3', md5: A }],
    want: [{ path: 'new.mp3', kind: 'move-local', reason: 'moved', from: 'old.mp3' }],
  },
  // --- two-way: changes, deletions, conflicts ---
  {
    name: 'sync: changed here only → upload',
    direction: 'sync',
    local: [l('x.mp3', B)],
    remote: [r('x.mp3', A)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'upload', reason: 'content-differs', replaces: true }],
  },
  {
    name: 'sync: changed on the remote only → download',
    direction: 'sync',
    local: [l('x.mp3', A)],
    remote: [r('x.mp3', B)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'download', reason: 'content-differs', replaces: true }],
  },
  {
    name: 'sync: remote unhashed but its fingerprint is the synced one → unchanged there',
    direction: 'sync',
    local: [l('x.mp3', B)],
    remote: [{ path: 'x.mp3', size: 1, fingerprint: 'etag-1' }],
    synced: [{ path: 'x.mp3', md5: A, etag: 'etag-1' }],
    want: [{ path: 'x.mp3', kind: 'upload', reason: 'content-differs' }],
  },
  {
    name: 'sync: changed on both sides → conflict, remote version kept beside',
    direction: 'sync',
    local: [l('Album/x.mp3', B)],
    remote: [r('Album/x.mp3', C, { writer: 'bob@laptop-1a2b3c' })],
    synced: [{ path: 'Album/x.mp3', md5: A }],
    want: [{ path: 'Album/x.mp3', kind: 'conflict', reason: 'both-changed', conflictPath: 'Album/x.conflict-bob-2026-11-20.mp3' }],
  },
  {
    name: 'sync: both sides new with different content → conflict',
    direction: 'sync',
    local: [l('x.mp3', B)],
    remote: [r('x.mp3', C)],
    want: [{ path: 'x.mp3', kind: 'conflict', conflictPath: 'x.conflict-remote-2026-11-20.mp3' }],
  },
  {
    name: 'sync: both sides changed to the same content → identical',
    direction: 'sync',
    local: [l('x.mp3', B)],
    remote: [r('x.mp3', B)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'skip', reason: 'identical' }],
  },
  {
    name: 'sync: new on each side → each goes across',
    direction: 'sync',
    local: [l('here.mp3', A)],
    remote: [r('there.mp3', B)],
    want: [
      { path: 'here.mp3', kind: 'upload', reason: 'new' },
      { path: 'there.mp3', kind: 'download', reason: 'new' },
    ],
  },
  {
    name: 'sync: deleted here, unchanged there, no --delete → kept, reported',
    direction: 'sync',
    remote: [r('x.mp3', A)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'skip', reason: 'deleted-locally' }],
  },
  {
    name: 'sync --delete: deleted here → remote trash',
    direction: 'sync',
    delete: true,
    remote: [r('x.mp3', A)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'trash-remote', reason: 'deleted-locally' }],
  },
  {
    name: 'sync --delete: deleted on the remote → local trash',
    direction: 'sync',
    delete: true,
    local: [l('x.mp3', A)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'trash-local', reason: 'deleted-remotely' }],
  },
  {
    name: 'sync --delete: deleted here but changed on the remote → the change wins',
    direction: 'sync',
    delete: true,
    remote: [r('x.mp3', B)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'download', reason: 'changed-remote-deleted-here' }],
  },
  {
    name: 'sync --delete: deleted on the remote but changed here → the change wins',
    direction: 'sync',
    delete: true,
    local: [l('x.mp3', B)],
    synced: [{ path: 'x.mp3', md5: A }],
    want: [{ path: 'x.mp3', kind: 'upload', reason: 'changed-here-deleted-remote' }],
  },
  // --- names ---
  {
    name: 'NFC/NFD: a remote key in NFD for an NFC library path is the same file',
    local: [l('Björk.mp3', A)],
    remote: [r('Björk.mp3', A, { key: 'music/Bjo\u0308rk.mp3' })],
    want: [{ path: 'Björk.mp3', kind: 'skip', reason: 'identical', key: 'music/Bjo\u0308rk.mp3' }],
  },
  {
    name: 'case clash: the refused path gets an error, nothing is sent or trashed for it',
    delete: true,
    local: [l('Track.mp3', A), l('track.mp3', B)],
    refuse: { 'track.mp3': 'differs only in letter case from Track.mp3' },
    want: [
      { path: 'Track.mp3', kind: 'upload' },
      { path: 'track.mp3', kind: 'error', reason: 'name-clash' },
    ],
  },
];

describe('plan (smart sync)', () => {
  for (const c of cases) it(c.name, () => check(c));

  it('does not count moves against the delete limit', () => {
    const remote = Array.from({ length: 4 }, (_, i) => r(`old${i}.mp3`, String(i).repeat(32)));
    const local = remote.map((x, i) => l(`new${i}.mp3`, x.md5 ?? ''));
    const p = plan(input({ name: '', local, remote, synced: remote.map((x) => ({ path: x.path, md5: x.md5 ?? '' })), delete: true, want: [] }));
    expect(p.actions.filter((a) => a.kind === 'trash-remote')).toHaveLength(4);
    expect(() => checkDeleteLimit(p, { percent: 10 })).not.toThrow();
  });

  it('counts each side against its own size in a two-way sync', () => {
    const synced = ['a', 'b', 'c', 'd'].map((x) => ({ path: `${x}.mp3`, md5: A }));
    // Three of four gone locally: three remote deletions out of four remote files.
    const p = plan(input({ name: '', direction: 'sync', delete: true, local: [l('a.mp3', A)], remote: synced.map((s) => r(s.path, A)), synced, want: [] }));
    expect(() => checkDeleteLimit(p, { percent: 50 })).toThrow(SafetyError);
    expect(() => checkDeleteLimit(p, { percent: 75 })).not.toThrow();
  });
});

describe('conflictName', () => {
  it.each([
    ['a/b/Track.mp3', 'alice@mac-1', 'a/b/Track.conflict-alice-2026-11-20.mp3'],
    ['noext', undefined, 'noext.conflict-remote-2026-11-20'],
    ['dir.v2/file', 'x y@h', 'dir.v2/file.conflict-x_y-2026-11-20'],
    ['.hidden', 'bob@h', '.hidden.conflict-bob-2026-11-20'],
  ])('%s by %s → %s', (path, writer, want) => {
    expect(conflictName(path, writer, '2026-11-20')).toBe(want);
  });
});

describe('caseClashes', () => {
  it('keeps the path both sides hold, refuses the other spellings', () => {
    const got = caseClashes(['Album/Track.mp3', 'album/track.mp3', 'Other.mp3'], ['album/track.mp3']);
    expect([...got.keys()]).toEqual(['Album/Track.mp3']);
    expect(got.get('Album/Track.mp3')).toMatch(/letter case from album\/track\.mp3/);
  });
  it('keeps the first in code-point order when neither side holds both', () => {
    expect([...caseClashes(['b.MP3', 'B.mp3', 'b.mp3'], []).keys()]).toEqual(['b.MP3', 'b.mp3']);
  });
  it('takes a rename that only changes letter case for a move, not a clash', () => {
    expect(caseClashes(['track.mp3'], ['Track.mp3'], (p) => p === 'Track.mp3').size).toBe(0);
  });
  it('refuses a new local file clashing with a remote one never synced here', () => {
    expect([...caseClashes(['track.mp3'], ['Track.mp3'], () => false).keys()]).toEqual(['track.mp3']);
  });
  it('finds nothing in distinct names', () => {
    expect(caseClashes(['a.mp3', 'b.mp3'], ['c.mp3']).size).toBe(0);
  });
});
