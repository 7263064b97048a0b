import { describe, expect, it } from 'vitest';
import { TtyDisplay } from './progress.js';
import { plan, type PlanLocal, type PlanRemote } from '../sync/plan.js';
import { isTransfer, isTrash, plannedWork } from '../sync/action-kinds.js';
import { musicKey } from '../sync/layout.js';

const [A, B, C, D, E] = ['a', 'b', 'c', 'd', 'e'].map((x) => x.repeat(32)) as [string, string, string, string, string];

describe('TtyDisplay', () => {
  it('counts as done the same actions the planned work counts: "X/Y files" reaches Y with copies, moves and a conflict', () => {
    // A two-way sync with a rename on each side, a conflict and a new file.
    const local: PlanLocal[] = [
      { path: 'new.mp3', size: 10, md5: A },
      { path: 'o2.mp3', size: 10, md5: B },
      { path: 'x.mp3', size: 10, md5: C },
      { path: 'fresh.mp3', size: 10, md5: D },
    ];
    const remote: PlanRemote[] = [
      { path: 'old.mp3', key: musicKey('old.mp3'), size: 10, md5: A },
      { path: 'n2.mp3', key: musicKey('n2.mp3'), size: 10, md5: B },
      { path: 'x.mp3', key: musicKey('x.mp3'), size: 10, md5: E },
    ];
    const synced = [
      { path: 'old.mp3', key: musicKey('old.mp3'), size: 10, md5: A },
      { path: 'o2.mp3', key: musicKey('o2.mp3'), size: 10, md5: B },
      { path: 'x.mp3', key: musicKey('x.mp3'), size: 10, md5: 'f'.repeat(32) },
    ];
    const p = plan({
      direction: 'sync',
      local: new Map(local.map((l) => [l.path, l])),
      remote: new Map(remote.map((r) => [r.path, r])),
      synced: new Map(synced.map((s) => [s.path, s])),
      delete: false,
      keyFor: musicKey,
      today: '2026-11-20',
    });
    expect(p.actions.map((a) => a.kind).sort()).toEqual(['conflict', 'copy-remote', 'move-local', 'trash-remote', 'upload']);

    const d = new TtyDisplay({ write() {}, isTTY: true, columns: 100 }, false);
    try {
      d.phase('transfer');
      d.planned(plannedWork(p.actions));
      // As the engine runs it: transfers first, then trash moves.
      for (const a of p.actions.filter(isTransfer)) {
        d.started(a);
        d.progress(a.size);
        d.finished(a);
      }
      d.phase('trash');
      for (const a of p.actions.filter(isTrash)) {
        d.started(a);
        d.finished(a);
      }
      expect(d.countsLine()).toMatch(/^4\/4 files {2}30 B\/30 B /);
    } finally {
      d.close();
    }
  });
});
