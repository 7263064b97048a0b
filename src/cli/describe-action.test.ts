import { describe, expect, it } from 'vitest';
import { describeAction, describeDetail, describeReason } from './describe-action.js';
import type { Action } from '../sync/plan.js';
import { musicKey } from '../sync/layout.js';

const at = (path: string) => ({ path, key: musicKey(path) });

describe('describeAction', () => {
  const cases: Array<[Action, string]> = [
    [{ kind: 'upload', ...at('x.mp3'), size: 5, reason: 'new', replaces: false }, 'new'],
    [{ kind: 'upload', ...at('x.mp3'), size: 5, reason: 'content-differs', replaces: true }, 'content differs: old version kept in remote trash'],
    [
      { kind: 'upload', ...at('x.mp3'), size: 5, reason: 'content-differs', replaces: true, changed: { local: true, remote: true } },
      'content differs: the remote copy changed since the last sync; old version kept in remote trash',
    ],
    [
      { kind: 'upload', ...at('x.mp3'), size: 5, reason: 'tags-changed', replaces: true, changed: { local: true, remote: false } },
      'tags changed: changed here; old version kept in remote trash',
    ],
    [{ kind: 'upload', ...at('x.mp3'), size: 5, reason: 'changed-here-deleted-remote', replaces: false }, 'changed here, deleted on remote: a change wins over a deletion'],
    [
      { kind: 'download', ...at('x.mp3'), size: 5, reason: 'content-differs', replaces: true, changed: { local: true, remote: true } },
      'content differs: the local file changed since the last sync; old version kept in local trash',
    ],
    [
      { kind: 'download', ...at('x.mp3'), size: 5, reason: 'content-differs', replaces: true, changed: { local: false, remote: true } },
      'content differs: changed on the remote; old version kept in local trash',
    ],
    [{ kind: 'download', ...at('x.mp3'), size: 5, reason: 'changed-remote-deleted-here', replaces: false }, 'changed on remote, deleted here: a change wins over a deletion'],
    [{ kind: 'copy-remote', ...at('New/a.mp3'), size: 0, reason: 'moved', from: 'music/Old/a.mp3', fromPath: 'Old/a.mp3' }, 'moved: from Old/a.mp3, on the server'],
    [{ kind: 'copy-local', ...at('b.mp3'), size: 0, reason: 'copied', from: 'a.mp3' }, 'copied: from a.mp3, here'],
    [{ kind: 'move-local', ...at('n.mp3'), size: 0, reason: 'moved', from: 'o.mp3' }, 'moved: from o.mp3, here'],
    [
      { kind: 'conflict', ...at('x.mp3'), size: 10, reason: 'both-changed', conflictPath: 'x.conflict-bob-2026-11-20.mp3' },
      "changed on both sides: remote version saved as x.conflict-bob-2026-11-20.mp3, this one uploaded (the remote's old version kept in remote trash)",
    ],
    [{ kind: 'skip', ...at('x.mp3'), size: 0, reason: 'identical' }, 'identical'],
    [{ kind: 'skip', ...at('x.mp3'), size: 0, reason: 'only-remote' }, 'only on remote'],
    [{ kind: 'skip', ...at('x.mp3'), size: 0, reason: 'only-local' }, 'only local'],
    [{ kind: 'skip', ...at('x.mp3'), size: 0, reason: 'deleted-remotely' }, 'deleted on remote: kept here; --delete propagates deletions'],
    [{ kind: 'skip', ...at('x.mp3'), size: 0, reason: 'deleted-locally' }, 'deleted locally: kept on the remote; --delete propagates deletions'],
    [{ kind: 'trash-remote', ...at('x.mp3'), size: 0, reason: 'deleted-locally', remoteSize: 3 }, 'deleted locally'],
    [{ kind: 'trash-remote', ...at('old.mp3'), size: 0, reason: 'moved', remoteSize: 3, movedTo: 'new.mp3' }, 'moved: to new.mp3'],
    [{ kind: 'trash-local', ...at('x.mp3'), size: 0, reason: 'deleted-remotely' }, 'deleted on remote'],
    [{ kind: 'error', ...at('track.mp3'), size: 0, reason: 'name-clash', problem: 'differs only in letter case from Track.mp3' }, 'name clash: differs only in letter case from Track.mp3'],
    [{ kind: 'error', ...at('a?.mp3'), size: 0, reason: 'name-not-allowed', problem: 'contains "?"' }, 'name not allowed: contains "?"'],
  ];
  it.each(cases)('%j → %s', (a, want) => {
    expect(describeAction(a)).toBe(want);
  });

  it('is the reason alone when there is no detail, reason and detail otherwise', () => {
    for (const [a] of cases) {
      const detail = describeDetail(a);
      expect(describeAction(a)).toBe(detail === undefined ? describeReason(a) : `${describeReason(a)}: ${detail}`);
    }
  });
});
