/**
 * Words for the planner's actions. The planner says why in codes and data;
 * this is the one place they become the text people read: the plan of a dry
 * run, status, the --json `reason` and `detail`, progress and the summary.
 */
import type { Action, Reason } from '../sync/plan.js';

const REASON_TEXT: Record<Reason, string> = {
  new: 'new',
  'content-differs': 'content differs',
  'tags-changed': 'tags changed',
  identical: 'identical',
  'only-remote': 'only on remote',
  'only-local': 'only local',
  'deleted-locally': 'deleted locally',
  'deleted-remotely': 'deleted on remote',
  moved: 'moved',
  copied: 'copied',
  'both-changed': 'changed on both sides',
  'changed-here-deleted-remote': 'changed here, deleted on remote',
  'changed-remote-deleted-here': 'changed on remote, deleted here',
  'name-not-allowed': 'name not allowed',
  'name-clash': 'name clash',
};

/** reasonText gives the few words for a reason code ("content differs"). */
export function reasonText(code: Reason): string {
  return REASON_TEXT[code];
}

/** describeReason gives the few words for why `a` was planned. */
export function describeReason(a: Action): string {
  return REASON_TEXT[a.reason];
}

/**
 * describeDetail says, from the action's data, what the reason alone does
 * not: what becomes of a replaced version and which side changed, where a
 * copy comes from or a move goes, why a name is refused. Undefined when the
 * reason says it all.
 */
export function describeDetail(a: Action): string | undefined {
  switch (a.kind) {
    case 'upload': {
      if (a.reason === 'changed-here-deleted-remote') return 'a change wins over a deletion';
      if (!a.replaces) return undefined;
      // A remote change about to be replaced is what a user must hear of first.
      const why = a.changed?.remote ? 'the remote copy changed since the last sync; ' : a.changed?.local ? 'changed here; ' : '';
      return `${why}old version kept in remote trash`;
    }
    case 'download': {
      if (a.reason === 'changed-remote-deleted-here') return 'a change wins over a deletion';
      if (!a.replaces) return undefined;
      const why = a.changed?.local ? 'the local file changed since the last sync; ' : a.changed?.remote ? 'changed on the remote; ' : '';
      return `${why}old version kept in local trash`;
    }
    case 'copy-remote':
      return `from ${a.fromPath}, on the server`;
    case 'copy-local':
    case 'move-local':
      return `from ${a.from}, here`;
    case 'conflict':
      return `remote version saved as ${a.conflictPath}, this one uploaded (the remote's old version kept in remote trash)`;
    case 'skip':
      if (a.reason === 'deleted-remotely') return 'kept here; --delete propagates deletions';
      if (a.reason === 'deleted-locally') return 'kept on the remote; --delete propagates deletions';
      return undefined;
    case 'trash-remote':
      return a.movedTo === undefined ? undefined : `to ${a.movedTo}`;
    case 'trash-local':
      return undefined;
    case 'error':
      return a.problem;
  }
}

/** describeAction is why `a` was planned in one phrase: "content differs: old version kept in remote trash". */
export function describeAction(a: Action): string {
  const detail = describeDetail(a);
  return detail === undefined ? describeReason(a) : `${describeReason(a)}: ${detail}`;
}

const MARK: Partial<Record<Action['kind'], string>> = { upload: '↑', download: '↓', 'trash-remote': '⌫', 'trash-local': '⌫' };

/** actionMark is the one-character sign a progress line puts before a file in flight. */
export function actionMark(a: Action): string {
  return MARK[a.kind] ?? '·';
}
