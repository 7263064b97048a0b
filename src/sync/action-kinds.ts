/**
 * What each kind of action counts as, decided here once: the engine's work
 * totals, the transfer stage, the progress display and the reports all ask
 * these, so "X of Y files" and the summaries count the same actions.
 */
import type {
  Action,
  ActionKind,
  ConflictAction,
  CopyLocalAction,
  CopyRemoteAction,
  DownloadAction,
  MoveLocalAction,
  TrashLocalAction,
  TrashRemoteAction,
  UploadAction,
} from './plan.js';

export type TransferAction = UploadAction | DownloadAction | CopyRemoteAction | CopyLocalAction | MoveLocalAction | ConflictAction;
export type CopyAction = CopyRemoteAction | CopyLocalAction | MoveLocalAction;
export type TrashAction = TrashRemoteAction | TrashLocalAction;

/**
 * The kinds carried out in the transfer stage (before any trash move). Each
 * is one file of the work a run shows ("X of Y files"), bytes or none.
 */
export const TRANSFER_KINDS: ReadonlySet<ActionKind> = new Set<TransferAction['kind']>(['upload', 'download', 'copy-remote', 'copy-local', 'move-local', 'conflict']);

/** isTransfer: `a` is carried out in the transfer stage and counts as one file of the run's work. */
export function isTransfer(a: Action): a is TransferAction {
  return TRANSFER_KINDS.has(a.kind);
}

/** isCopy: `a` carries content the target side already holds, without sending it (a copy or a move). */
export function isCopy(a: Action): a is CopyAction {
  return a.kind === 'copy-remote' || a.kind === 'copy-local' || a.kind === 'move-local';
}

/** isTrash: `a` moves a file to trash (or, for the old name of a move, deletes it). */
export function isTrash(a: Action): a is TrashAction {
  return a.kind === 'trash-remote' || a.kind === 'trash-local';
}

/** isDeletion: `a` takes a file away from its side; the old names of moves lose nothing and are not deletions. */
export function isDeletion(a: Action): a is TrashAction {
  return isTrash(a) && a.reason !== 'moved';
}

/** trashSide: the side whose trash `a` fills. */
export function trashSide(a: TrashAction): 'remote' | 'local' {
  return a.kind === 'trash-remote' ? 'remote' : 'local';
}

/** plannedWork totals the work a run shows: its transfers, and the bytes they move. */
export function plannedWork(actions: readonly Action[]): { files: number; bytes: number } {
  const work = { files: 0, bytes: 0 };
  for (const a of actions) {
    if (!isTransfer(a)) continue;
    work.files++;
    work.bytes += a.size;
  }
  return work;
}
