/**
 * The planner: a pure function from what is on both sides (and what was last
 * synced) to the list of actions a push or pull takes. No I/O happens here, so
 * every decision is tested table-driven in plan.test.ts.
 *
 * "Same" is decided by content: a file is identical to an object when their
 * MD5s match. Sizes that differ settle it at once; an object whose MD5 is
 * unknown (no ETag to go by and nothing recorded) counts as different.
 */
import type { SyncRecord } from '../state/sync-records.js';
import { SafetyError } from '../errors.js';

export type Direction = 'push' | 'pull';

export interface PlanLocal {
  path: string;
  size: number;
  /**
   * Content MD5; may be absent for a new or changed file that has not been
   * hashed yet. The engine hashes every such file the remote holds at the same
   * size before planning, so an absent MD5 here never hides an identical pair.
   */
  md5?: string;
}

export interface PlanRemote {
  /** Exact key relative to the remote root (`music/…`). */
  key: string;
  /** NFC library path the key stands for. */
  path: string;
  size: number;
  /** Content MD5 when known (plain ETag, sync record, or read); undefined when not. */
  md5?: string;
  /** What identifies this version of the object (see remote-listing.ts), recorded once synced. */
  fingerprint?: string;
}

export type ActionKind = 'upload' | 'download' | 'skip' | 'trash-remote' | 'trash-local' | 'error';

export type Reason =
  | 'new'
  | 'content differs'
  | 'identical'
  | 'only on remote'
  | 'only local'
  | 'deleted locally'
  | 'deleted on remote'
  | 'name not allowed';

export interface Action {
  kind: ActionKind;
  path: string;
  /** Remote key the action reads or writes. */
  key: string;
  /** Bytes the action moves (0 for skips and trash moves). */
  size: number;
  reason: Reason;
  /** Human detail: why a name is refused, or a warning about what is replaced. */
  detail?: string;
  /** The target already holds another version, which goes to trash before it is replaced. */
  replaces?: boolean;
  /** Content MD5 the transferred bytes must have, when known before reading them. */
  md5?: string;
  /** The remote object's fingerprint, for skips and downloads. */
  fingerprint?: string;
}

export interface PlanInput {
  direction: Direction;
  local: ReadonlyMap<string, PlanLocal>;
  remote: ReadonlyMap<string, PlanRemote>;
  synced: ReadonlyMap<string, SyncRecord>;
  /** Move files the source no longer has to the target's trash. */
  delete: boolean;
  /** Remote key for a library path that is not on the remote yet. */
  keyFor: (path: string) => string;
  /** Why the target cannot hold `path` (push: the remote key; pull: the local name), or undefined. */
  nameProblem?: (path: string, key: string) => string | undefined;
}

export interface Plan {
  direction: Direction;
  actions: Action[];
  /** Files on the target side before the run: the base of the delete share. */
  targetCount: number;
}

/** plan decides, for every path on either side, what a push or pull does with it. */
export function plan(input: PlanInput): Plan {
  const { direction, local, remote, synced } = input;
  const actions: Action[] = [];
  const paths = new Set<string>([...local.keys(), ...remote.keys()]);
  for (const path of [...paths].sort()) {
    const l = local.get(path);
    const r = remote.get(path);
    const key = r?.key ?? input.keyFor(path);
    if (l && r) {
      if (l.size === r.size && r.md5 !== undefined && l.md5 !== undefined && r.md5 === l.md5) {
        actions.push({ kind: 'skip', path, key, size: 0, reason: 'identical', ...fp(r) });
        continue;
      }
      const rec = synced.get(path);
      if (direction === 'push') {
        const theirs = rec && rec.md5 !== r.md5 && r.md5 !== undefined ? 'the remote copy changed since the last sync; ' : '';
        actions.push({ kind: 'upload', path, key, size: l.size, reason: 'content differs', replaces: true, ...md5(l), detail: `${theirs}old version kept in remote trash` });
      } else {
        const mine = rec && l.md5 !== undefined && rec.md5 !== l.md5 ? 'the local file changed since the last sync; ' : '';
        actions.push({ kind: 'download', path, key, size: r.size, reason: 'content differs', replaces: true, ...md5(r), ...fp(r), detail: `${mine}old version kept in local trash` });
      }
      continue;
    }
    if (l) {
      if (direction === 'push') {
        const bad = input.nameProblem?.(path, key);
        if (bad) actions.push({ kind: 'error', path, key, size: 0, reason: 'name not allowed', detail: bad });
        else actions.push({ kind: 'upload', path, key, size: l.size, reason: 'new', ...md5(l) });
      } else if (input.delete) {
        actions.push({ kind: 'trash-local', path, key, size: 0, reason: 'deleted on remote' });
      } else {
        actions.push({ kind: 'skip', path, key, size: 0, reason: 'only local' });
      }
      continue;
    }
    if (r) {
      if (direction === 'pull') {
        const bad = input.nameProblem?.(path, key);
        if (bad) actions.push({ kind: 'error', path, key, size: 0, reason: 'name not allowed', detail: bad });
        else actions.push({ kind: 'download', path, key, size: r.size, reason: 'new', ...md5(r), ...fp(r) });
      } else if (input.delete) {
        actions.push({ kind: 'trash-remote', path, key, size: 0, reason: 'deleted locally' });
      } else {
        actions.push({ kind: 'skip', path, key, size: 0, reason: 'only on remote' });
      }
    }
  }
  return { direction, actions, targetCount: direction === 'push' ? remote.size : local.size };
}

function md5(x: { md5?: string }): { md5?: string } {
  return x.md5 ? { md5: x.md5 } : {};
}

function fp(r: PlanRemote): { fingerprint?: string } {
  return r.fingerprint ? { fingerprint: r.fingerprint } : {};
}

/** A limit on deletions: a share of the target (0–100) or an absolute count. */
export type DeleteLimit = { percent: number } | { count: number };

/**
 * checkDeleteLimit throws SafetyError when `p` would move more of the target
 * to trash than `limit` allows; nothing has been changed at that point.
 */
export function checkDeleteLimit(p: Plan, limit: DeleteLimit): void {
  const n = p.actions.filter((a) => a.kind === 'trash-remote' || a.kind === 'trash-local').length;
  if (n === 0) return;
  const where = p.direction === 'push' ? 'remote' : 'local';
  const share = p.targetCount === 0 ? 100 : (n / p.targetCount) * 100;
  const over = 'percent' in limit ? share > limit.percent : n > limit.count;
  if (over) {
    const allowed = 'percent' in limit ? `${limit.percent}%` : `${limit.count} files`;
    throw new SafetyError(
      `${p.direction} --delete would move ${n} of ${p.targetCount} ${where} files (${share.toFixed(0)}%) to trash, ` +
        `over the limit of ${allowed}; nothing was changed (raise it with --max-delete)`,
    );
  }
}
