/**
 * The planner: a pure function from what is on both sides (and what was last
 * synced) to the list of actions a push or pull takes. No I/O happens here, so
 * every decision is tested table-driven in plan.test.ts.
 *
 * "Same" is decided by content: a file is identical to an object when their
 * MD5s match. Sizes that differ settle it at once; an object whose MD5 is
 * unknown (no ETag to go by and nothing recorded) counts as different.
 */
import type { SyncRecord, SyncedLookup } from '../state/sync-records.js';
import { SafetyError } from '../errors.js';

export type Direction = 'push' | 'pull' | 'sync';

export interface PlanLocal {
  path: string;
  size: number;
  /**
   * Content MD5; may be absent for a new or changed file that has not been
   * hashed yet. The engine hashes every such file whose path the remote or the
   * last sync knows before planning, so an absent MD5 here never hides an
   * identical pair or a change on both sides.
   */
  md5?: string;
  /** Hash of the audio alone (tags excluded), when known. */
  audioHash?: string;
}

export interface PlanRemote {
  /** Exact key relative to the remote root (`music/…`). */
  key: string;
  /** NFC library path the key stands for. */
  path: string;
  size: number;
  /** Content MD5 when known (catalog, plain ETag, sync record, or read); undefined when not. */
  md5?: string;
  /** What identifies this version of the object (see remote-listing.ts), recorded once synced. */
  fingerprint?: string;
  /** Hash of the audio alone, when the catalog or the last sync knows it. */
  audioHash?: string;
  /** Who wrote this version (`user@machine`), when the catalog says. */
  writer?: string;
}

export type ActionKind =
  | 'upload'
  | 'download'
  /** Server-side copy of the remote object `from` to `key`: no audio bytes sent. */
  | 'copy-remote'
  /** Local copy of library file `from` to `path`: nothing downloaded. */
  | 'copy-local'
  /** Local rename of library file `from` to `path`: nothing downloaded, nothing left behind. */
  | 'move-local'
  /** Changed on both sides: the remote version is saved at `conflictPath`, then the local one is uploaded. */
  | 'conflict'
  | 'skip'
  | 'trash-remote'
  | 'trash-local'
  | 'error';

export type Reason =
  | 'new'
  | 'content differs'
  | 'tags changed'
  | 'identical'
  | 'only on remote'
  | 'only local'
  | 'deleted locally'
  | 'deleted on remote'
  | 'moved'
  | 'copied'
  | 'changed on both sides'
  | 'changed here, deleted on remote'
  | 'changed on remote, deleted here'
  | 'name not allowed'
  | 'name clash';

export interface Action {
  kind: ActionKind;
  path: string;
  /** Remote key the action reads or writes. */
  key: string;
  /** Bytes the action moves over the network (0 for skips, copies, moves and trash moves). */
  size: number;
  reason: Reason;
  /** Human detail: why a name is refused, where a file moved, what is replaced. */
  detail?: string;
  /** The target already holds another version, which goes to trash before it is replaced. */
  replaces?: boolean;
  /** Content MD5 the transferred bytes must have, when known before reading them. */
  md5?: string;
  /** The remote object's fingerprint, for skips and downloads. */
  fingerprint?: string;
  /** copy-remote: the source key; copy-local and move-local: the source library path. */
  from?: string;
  /** conflict: library path the remote version is saved at. */
  conflictPath?: string;
  /** trash-remote of a move: the library path the content moved to. */
  movedTo?: string;
  /** trash-remote: the object's size, when known (spares a HEAD on servers that must check it before a copy). */
  remoteSize?: number;
}

export interface PlanInput {
  direction: Direction;
  local: ReadonlyMap<string, PlanLocal>;
  remote: ReadonlyMap<string, PlanRemote>;
  synced: SyncedLookup;
  /** Who wrote the remote object at `key` (for conflict names), when known. */
  writerOf?: (key: string) => string | undefined;
  /** Propagate deletions: move what the other side no longer has to this side's trash. */
  delete: boolean;
  /** Remote key for a library path that is not on the remote yet. */
  keyFor: (path: string) => string;
  /** Why the target cannot hold `path` (uploads: the remote key; downloads: the local name), or undefined. */
  nameProblem?: (path: string, key: string) => string | undefined;
  /** Paths refused before planning (names that clash), with why: nothing is transferred or trashed for them. */
  refuse?: ReadonlyMap<string, string>;
  /** Date put in conflict file names (`YYYY-MM-DD`); the planner stays pure. */
  today?: string;
  /**
   * Paths settled before planning as identical and unchanged on both sides
   * (see sides.ts); they are in neither `local` nor `remote`, and need nothing.
   */
  identical?: readonly string[];
  /** Remote objects with content `md5` beyond those in `remote` (copy sources among the identical). */
  remoteWithMd5?: (md5: string) => PlanRemote[];
  /** Library files with content `md5` beyond those in `local` (copy sources among the identical). */
  localWithMd5?: (md5: string) => PlanLocal[];
}

export interface Plan {
  direction: Direction;
  /** What to do for every path that is not identical on both sides. */
  actions: Action[];
  /** Paths identical on both sides and unchanged, settled before planning (no actions for them). */
  identical: readonly string[];
  /** Files on the remote before the run: the base of the remote delete share. */
  remoteCount: number;
  /** Files in the library before the run: the base of the local delete share. */
  localCount: number;
}

/**
 * plan decides, for every path on either side, what a push, pull or two-way
 * sync does with it; then it turns transfers of content the other side
 * already holds into copies and moves (renames, see pairMoves).
 */
export function plan(input: PlanInput): Plan {
  const { local, remote } = input;
  const actions: Action[] = [];
  const paths = new Set<string>([...local.keys(), ...remote.keys()]);
  for (const path of [...paths].sort()) {
    const refused = input.refuse?.get(path);
    const key = remote.get(path)?.key ?? input.keyFor(path);
    if (refused !== undefined) {
      actions.push({ kind: 'error', path, key, size: 0, reason: 'name clash', detail: refused });
      continue;
    }
    actions.push(decide(input, path, key));
  }
  pairMoves(input, actions);
  const identical = input.identical ?? [];
  return { direction: input.direction, actions, identical, remoteCount: remote.size + identical.length, localCount: local.size + identical.length };
}

const same = (a: string | undefined, b: string | undefined): boolean => a !== undefined && a === b;

/** decide plans one path from what each side and the last sync hold. */
function decide(input: PlanInput, path: string, key: string): Action {
  const { direction } = input;
  const l = input.local.get(path);
  const r = input.remote.get(path);
  const skip = (reason: Reason, detail?: string): Action => ({ kind: 'skip', path, key, size: 0, reason, ...fp(r), ...(detail ? { detail } : {}) });
  // The common case, and the only one that needs no sync record: looked up only past here.
  if (l && r && l.size === r.size && same(l.md5, r.md5)) return skip('identical');
  const base = input.synced.get(path);
  // What the last sync recorded is still there (by content, or by fingerprint for unhashed objects).
  const localAsBase = base !== undefined && l !== undefined && same(l.md5, base.md5);
  const remoteAsBase = base !== undefined && r !== undefined && (same(r.md5, base.md5) || same(r.fingerprint, base.etag));

  const upload = (reason: Reason, more: Partial<Action> = {}): Action => {
    const bad = input.nameProblem?.(path, key);
    if (bad) return { kind: 'error', path, key, size: 0, reason: 'name not allowed', detail: bad };
    return { kind: 'upload', path, key, size: l?.size ?? 0, reason, ...md5(l), ...more };
  };
  const download = (reason: Reason, more: Partial<Action> = {}): Action => {
    const bad = input.nameProblem?.(path, key);
    if (bad) return { kind: 'error', path, key, size: 0, reason: 'name not allowed', detail: bad };
    return { kind: 'download', path, key, size: r?.size ?? 0, reason, ...md5(r), ...fp(r), ...more };
  };

  if (l && r) {
    const why = sameAudio(l, r, base) ? 'tags changed' : 'content differs';
    if (direction === 'push') {
      const theirs = base && !remoteAsBase ? 'the remote copy changed since the last sync; ' : '';
      return upload(why, { replaces: true, detail: `${theirs}old version kept in remote trash` });
    }
    if (direction === 'pull') {
      const mine = base && l.md5 !== undefined && !localAsBase ? 'the local file changed since the last sync; ' : '';
      return download(why, { replaces: true, detail: `${mine}old version kept in local trash` });
    }
    if (localAsBase && !remoteAsBase) return download(why, { replaces: true, detail: 'changed on the remote; old version kept in local trash' });
    if (remoteAsBase && !localAsBase) return upload(why, { replaces: true, detail: 'changed here; old version kept in remote trash' });
    const conflictPath = conflictName(path, r.writer ?? input.writerOf?.(r.key), input.today);
    return {
      kind: 'conflict',
      path,
      key,
      size: r.size + l.size,
      reason: 'changed on both sides',
      conflictPath,
      ...md5(r),
      ...fp(r),
      detail: `remote version saved as ${conflictPath}, this one uploaded (the remote's old version kept in remote trash)`,
    };
  }

  if (l) {
    if (direction === 'push' || (direction === 'sync' && !base)) return upload('new');
    if (direction === 'sync' && !localAsBase) return upload('changed here, deleted on remote', { detail: 'a change wins over a deletion' });
    if (input.delete) return { kind: 'trash-local', path, key, size: 0, reason: 'deleted on remote' };
    if (direction === 'sync') return skip('deleted on remote', 'kept here; --delete propagates deletions');
    return skip('only local');
  }

  if (r) {
    if (direction === 'pull' || (direction === 'sync' && !base)) return download('new');
    if (direction === 'sync' && !remoteAsBase) return download('changed on remote, deleted here', { detail: 'a change wins over a deletion' });
    if (input.delete) return { kind: 'trash-remote', path, key, size: 0, reason: 'deleted locally', remoteSize: r.size };
    if (direction === 'sync') return skip('deleted locally', 'kept on the remote; --delete propagates deletions');
    return skip('only on remote');
  }
  throw new Error(`unreachable: ${path} on neither side`);
}

/** sameAudio: both sides hold the same audio (known on both), so only tags differ. */
function sameAudio(l: PlanLocal, r: PlanRemote, base: SyncRecord | undefined): boolean {
  const remoteAudio = r.audioHash ?? (base && same(r.md5, base.md5) ? base.audioHash : undefined);
  return same(l.audioHash, remoteAudio);
}

/**
 * conflictName is where the remote version of a file changed on both sides is
 * kept: `<name>.conflict-<user>-<date>.<ext>` beside it, `<user>` being who
 * wrote the remote version (or "remote" when unknown).
 */
export function conflictName(path: string, writer: string | undefined, today = new Date().toISOString().slice(0, 10)): string {
  const user = (writer?.split('@')[0] ?? 'remote').replace(/[^\p{L}\p{N}_-]+/gu, '_') || 'remote';
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  const cut = dot > slash + 1 ? dot : path.length;
  return `${path.slice(0, cut)}.conflict-${user}-${today}${path.slice(cut)}`;
}

/** Reasons under which a path is gone from one side while the other still holds it. */
const GONE_LOCALLY: ReadonlySet<Reason> = new Set(['only on remote', 'deleted locally']);
const GONE_REMOTELY: ReadonlySet<Reason> = new Set(['only local', 'deleted on remote']);

/**
 * pairMoves finds content the target side already holds under another name.
 * A new file whose content the remote holds at another key is copied there on
 * the server, not uploaded; when that other path is gone locally and was last
 * synced with that very content, the user moved it, and its old key goes to
 * trash (with or without --delete: a move is not a deletion). The same on the
 * local side for downloads: a local copy, or a rename when the old path is
 * gone from the remote and was synced with that content.
 */
function pairMoves(input: PlanInput, actions: Action[]): void {
  // Built on first use: a run with nothing new needs none of these maps.
  let index: Map<string, number> | undefined;
  const byPathIndex = () => (index ??= new Map(actions.map((a, i) => [a.path, i])));
  const isMove = (path: string, md5: string, gone: ReadonlySet<Reason>): boolean => {
    const i = byPathIndex().get(path);
    const a = i === undefined ? undefined : actions[i];
    return a !== undefined && gone.has(a.reason) && a.kind !== 'error' && same(input.synced.get(path)?.md5, md5);
  };

  const uploads = actions.some((a) => a.kind === 'upload' && a.reason === 'new');
  if (input.direction !== 'pull' && uploads) {
    const byMd5 = withLookup(groupByMd5(input.remote.values()), input.remoteWithMd5);
    const trashed = new Set<string>();
    for (const a of actions) {
      if (a.kind !== 'upload' || a.reason !== 'new') continue;
      const l = input.local.get(a.path);
      const srcs = l?.md5 ? (byMd5.get(l.md5) ?? []).filter((r) => r.size === l.size && r.path !== a.path) : [];
      if (!l?.md5 || srcs.length === 0) continue;
      const md5 = l.md5;
      const moved = srcs.find((r) => !input.local.has(r.path) && isMove(r.path, md5, GONE_LOCALLY));
      const src = moved ?? srcs[0];
      if (!src) continue;
      Object.assign(a, { kind: 'copy-remote', size: 0, from: src.key, reason: moved ? 'moved' : 'copied', detail: `from ${src.path}, on the server` });
      if (moved && !trashed.has(moved.path)) {
        trashed.add(moved.path);
        const i = byPathIndex().get(moved.path);
        if (i !== undefined) actions[i] = { kind: 'trash-remote', path: moved.path, key: moved.key, size: 0, reason: 'moved', movedTo: a.path, remoteSize: moved.size, detail: `to ${a.path}` };
      }
    }
  }

  // A path gone here whose last sync record says it was being moved to a path
  // that now holds its content is the tail of a move interrupted after the
  // copy and before its old key went to trash: finish it.
  if (input.direction !== 'pull') {
    for (const a of actions) {
      if (!GONE_LOCALLY.has(a.reason) || (a.kind !== 'skip' && a.kind !== 'trash-remote')) continue;
      const rec = input.synced.get(a.path);
      const to = rec?.movedTo;
      const r = input.remote.get(a.path);
      if (!rec || to === undefined || !same(r?.md5, rec.md5)) continue;
      // The new path holds that content here: planned, or settled as identical before planning.
      const there = same(input.local.get(to)?.md5, rec.md5) || (input.localWithMd5?.(rec.md5) ?? []).some((l) => l.path === to);
      if (there) Object.assign(a, { kind: 'trash-remote', reason: 'moved', movedTo: to, remoteSize: r?.size, detail: `to ${to}` });
    }
  }

  const downloads = actions.filter((a) => a.kind === 'download' && a.reason === 'new' && a.md5);
  if (input.direction !== 'push' && downloads.length > 0) {
    const byMd5 = withLookup(groupByMd5(input.local.values()), input.localWithMd5);
    // A source wanted by several new paths is copied to each, never moved (it is read by all).
    const wanted = new Map<string, number>();
    const pick = new Map<Action, { src: PlanLocal; moved: boolean }>();
    for (const a of downloads) {
      const r = input.remote.get(a.path);
      const md5 = a.md5 ?? '';
      const srcs = (byMd5.get(md5) ?? []).filter((l) => l.size === r?.size && l.path !== a.path);
      const moved = srcs.find((l) => !input.remote.has(l.path) && isMove(l.path, md5, GONE_REMOTELY));
      const src = moved ?? srcs[0];
      if (!src) continue;
      pick.set(a, { src, moved: moved !== undefined });
      wanted.set(src.path, (wanted.get(src.path) ?? 0) + 1);
    }
    const drop = new Set<string>();
    for (const [a, { src, moved }] of pick) {
      const move = moved && wanted.get(src.path) === 1;
      Object.assign(a, { kind: move ? 'move-local' : 'copy-local', size: 0, from: src.path, reason: moved ? 'moved' : 'copied', detail: `from ${src.path}, here` });
      if (move) drop.add(src.path);
    }
    if (drop.size > 0) {
      for (let i = actions.length - 1; i >= 0; i--) if (drop.has(actions[i]?.path ?? '') && actions[i]?.kind !== 'move-local') actions.splice(i, 1);
    }
  }
}

/**
 * withLookup answers by MD5 from `known`, plus what `more` finds beyond it
 * (paths settled before planning), each path once.
 */
function withLookup<T extends { path: string; md5?: string }>(known: Map<string, T[]>, more?: (md5: string) => T[]): { get(md5: string): T[] | undefined } {
  if (!more) return known;
  return {
    get(md5) {
      const own = known.get(md5) ?? [];
      const seen = new Set(own.map((x) => x.path));
      return [...own, ...more(md5).filter((x) => !seen.has(x.path))];
    },
  };
}

function groupByMd5<T extends { md5?: string }>(xs: Iterable<T>): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    if (!x.md5) continue;
    const list = out.get(x.md5);
    if (list) list.push(x);
    else out.set(x.md5, [x]);
  }
  return out;
}

function md5(x: { md5?: string } | undefined): { md5?: string } {
  return x?.md5 ? { md5: x.md5 } : {};
}

function fp(r: PlanRemote | undefined): { fingerprint?: string } {
  return r?.fingerprint ? { fingerprint: r.fingerprint } : {};
}

/** A limit on deletions: a share of the target (0–100) or an absolute count. */
export type DeleteLimit = { percent: number } | { count: number };

/**
 * checkDeleteLimit throws SafetyError when `p` would move more of the target
 * to trash than `limit` allows; nothing has been changed at that point.
 */
export function checkDeleteLimit(p: Plan, limit: DeleteLimit): void {
  for (const [kind, where, base] of [
    ['trash-remote', 'remote', p.remoteCount],
    ['trash-local', 'local', p.localCount],
  ] as const) {
    // Moves send old keys to trash too, but lose nothing: they do not count.
    const n = p.actions.filter((a) => a.kind === kind && a.reason !== 'moved').length;
    if (n === 0) continue;
    const share = base === 0 ? 100 : (n / base) * 100;
    const over = 'percent' in limit ? share > limit.percent : n > limit.count;
    if (over) {
      const allowed = 'percent' in limit ? `${limit.percent}%` : `${limit.count} files`;
      throw new SafetyError(
        `${p.direction} --delete would move ${n} of ${base} ${where} files (${share.toFixed(0)}%) to trash, ` +
          `over the limit of ${allowed}; nothing was changed (raise it with --max-delete)`,
      );
    }
  }
}
