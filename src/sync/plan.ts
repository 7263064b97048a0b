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

/**
 * Why the planner chose an action, as a code: the CLI (and the API) turn it
 * into words (see cli/describe-action.ts). What a code alone does not say
 * travels as data on the action (which side changed, the name problem, the
 * source of a copy), never as a sentence.
 */
export type Reason =
  | 'new'
  | 'content-differs'
  /** Only the tags differ: both sides hold the same audio. */
  | 'tags-changed'
  | 'identical'
  /** On the remote only; the direction does not carry it here (push without --delete). */
  | 'only-remote'
  /** In the library only; the direction does not carry it there (pull without --delete). */
  | 'only-local'
  /** Synced before, gone from the library since. */
  | 'deleted-locally'
  /** Synced before, gone from the remote since. */
  | 'deleted-remotely'
  | 'moved'
  | 'copied'
  | 'both-changed'
  /** Changed here since the last sync and deleted on the remote: the change wins. */
  | 'changed-here-deleted-remote'
  /** Changed on the remote since the last sync and deleted here: the change wins. */
  | 'changed-remote-deleted-here'
  | 'name-not-allowed'
  | 'name-clash';

/** Which side changed since the last sync of a path (known only for paths synced before). */
export interface Changed {
  local: boolean;
  remote: boolean;
}

interface ActionBase {
  /** NFC library path the action is about. */
  path: string;
  /** Remote key the action reads or writes. */
  key: string;
}

/** Sends the library file at `path` to `key`. */
export interface UploadAction extends ActionBase {
  kind: 'upload';
  reason: Extract<Reason, 'new' | 'content-differs' | 'tags-changed' | 'changed-here-deleted-remote'>;
  /** Bytes sent. */
  size: number;
  /** The remote holds another version at `key`: it is kept in remote trash before it is replaced. */
  replaces: boolean;
  /** Set when the path was synced before and both sides still hold it. */
  changed?: Changed;
}

/** Fetches the object at `key` into the library at `path`. */
export interface DownloadAction extends ActionBase {
  kind: 'download';
  reason: Extract<Reason, 'new' | 'content-differs' | 'tags-changed' | 'changed-remote-deleted-here'>;
  /** Bytes received. */
  size: number;
  /** The library holds another version at `path`: it is kept in local trash before it is replaced. */
  replaces: boolean;
  /** Set when the path was synced before and both sides still hold it. */
  changed?: Changed;
  /** Content MD5 the received bytes must have, when known before reading them. */
  md5?: string;
  /** The remote object's fingerprint, recorded once synced. */
  fingerprint?: string;
}

/** Server-side copy of the remote object `from` to `key`: no audio bytes sent. */
export interface CopyRemoteAction extends ActionBase {
  kind: 'copy-remote';
  reason: Extract<Reason, 'moved' | 'copied'>;
  size: 0;
  /** The source object's key. */
  from: string;
  /** The library path the source object stands for. */
  fromPath: string;
}

/** Local copy of library file `from` to `path`: nothing downloaded. */
export interface CopyLocalAction extends ActionBase {
  kind: 'copy-local';
  /** `moved` when the source is gone from the remote but wanted at several new paths, so copied to each. */
  reason: Extract<Reason, 'moved' | 'copied'>;
  size: 0;
  /** The source library path. */
  from: string;
  /** The remote object's fingerprint, recorded once synced. */
  fingerprint?: string;
}

/** Local rename of library file `from` to `path`: nothing downloaded, nothing left behind. */
export interface MoveLocalAction extends ActionBase {
  kind: 'move-local';
  reason: 'moved';
  size: 0;
  /** The source library path. */
  from: string;
  /** The remote object's fingerprint, recorded once synced. */
  fingerprint?: string;
}

/** Changed on both sides: the remote version is saved at `conflictPath`, then the local one is uploaded (the remote's old version kept in remote trash). */
export interface ConflictAction extends ActionBase {
  kind: 'conflict';
  reason: 'both-changed';
  /** Bytes both ways: the remote version down, the local one up. */
  size: number;
  /** Library path the remote version is saved at (a free name near it if taken). */
  conflictPath: string;
  /** The remote version's content MD5, when known. */
  md5?: string;
  /** The remote object's fingerprint. */
  fingerprint?: string;
}

/** Nothing to do for `path`. */
export interface SkipAction extends ActionBase {
  kind: 'skip';
  reason: Extract<Reason, 'identical' | 'only-remote' | 'only-local' | 'deleted-locally' | 'deleted-remotely'>;
  size: 0;
  /** The remote object's fingerprint, when the remote holds `path`. */
  fingerprint?: string;
}

/** Moves the object at `key` to remote trash (or, for a move, deletes it once its content stands at `movedTo`). */
export interface TrashRemoteAction extends ActionBase {
  kind: 'trash-remote';
  reason: Extract<Reason, 'deleted-locally' | 'moved'>;
  size: 0;
  /** The object's size (spares a HEAD on servers that must check it before a copy). */
  remoteSize: number;
  /** Set exactly for a move (`reason` 'moved'): the library path the content moved to. */
  movedTo?: string;
}

/** Moves the library file at `path` to local trash. */
export interface TrashLocalAction extends ActionBase {
  kind: 'trash-local';
  reason: 'deleted-remotely';
  size: 0;
}

/** `path` cannot be synced: its name is refused. Nothing is transferred or trashed for it. */
export interface ErrorAction extends ActionBase {
  kind: 'error';
  reason: Extract<Reason, 'name-not-allowed' | 'name-clash'>;
  size: 0;
  /** What is wrong with the name, as the name checker says it. */
  problem: string;
}

/**
 * One step of a plan, by kind; each kind carries exactly its own fields.
 * `size` is always the bytes the action moves over the network (0 for skips,
 * copies, moves and trash moves).
 */
export type Action =
  | UploadAction
  | DownloadAction
  | CopyRemoteAction
  | CopyLocalAction
  | MoveLocalAction
  | ConflictAction
  | SkipAction
  | TrashRemoteAction
  | TrashLocalAction
  | ErrorAction;

export type ActionKind = Action['kind'];

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
      actions.push({ kind: 'error', path, key, size: 0, reason: 'name-clash', problem: refused });
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
  const skip = (reason: SkipAction['reason']): SkipAction => ({ kind: 'skip', path, key, size: 0, reason, ...fp(r) });
  // The common case, and the only one that needs no sync record: looked up only past here.
  if (l && r && l.size === r.size && same(l.md5, r.md5)) return skip('identical');
  const base = input.synced.get(path);
  // What the last sync recorded is still there (by content, or by fingerprint for unhashed objects).
  const localAsBase = base !== undefined && l !== undefined && same(l.md5, base.md5);
  const remoteAsBase = base !== undefined && r !== undefined && (same(r.md5, base.md5) || same(r.fingerprint, base.etag));

  const refused = (): ErrorAction | undefined => {
    const problem = input.nameProblem?.(path, key);
    return problem ? { kind: 'error', path, key, size: 0, reason: 'name-not-allowed', problem } : undefined;
  };
  const upload = (size: number, reason: UploadAction['reason'], replacing?: Replacing): UploadAction | ErrorAction =>
    refused() ?? { kind: 'upload', path, key, size, reason, replaces: false, ...replacing };
  const download = (size: number, reason: DownloadAction['reason'], replacing?: Replacing): DownloadAction | ErrorAction =>
    refused() ?? { kind: 'download', path, key, size, reason, replaces: false, ...md5(r), ...fp(r), ...replacing };

  if (l && r) {
    const why = sameAudio(l, r, base) ? 'tags-changed' : 'content-differs';
    // An unhashed local file is not said to have changed: its content is unknown.
    const changed = base && { local: l.md5 !== undefined && !localAsBase, remote: !remoteAsBase };
    const replacing: Replacing = { replaces: true, ...(changed ? { changed } : {}) };
    if (direction === 'push') return upload(l.size, why, replacing);
    if (direction === 'pull') return download(r.size, why, replacing);
    if (localAsBase && !remoteAsBase) return download(r.size, why, replacing);
    if (remoteAsBase && !localAsBase) return upload(l.size, why, replacing);
    const conflictPath = conflictName(path, r.writer ?? input.writerOf?.(r.key), input.today);
    return { kind: 'conflict', path, key, size: r.size + l.size, reason: 'both-changed', conflictPath, ...md5(r), ...fp(r) };
  }

  if (l) {
    if (direction === 'push' || (direction === 'sync' && !base)) return upload(l.size, 'new');
    if (direction === 'sync' && !localAsBase) return upload(l.size, 'changed-here-deleted-remote');
    if (input.delete) return { kind: 'trash-local', path, key, size: 0, reason: 'deleted-remotely' };
    if (direction === 'sync') return skip('deleted-remotely');
    return skip('only-local');
  }

  if (r) {
    if (direction === 'pull' || (direction === 'sync' && !base)) return download(r.size, 'new');
    if (direction === 'sync' && !remoteAsBase) return download(r.size, 'changed-remote-deleted-here');
    if (input.delete) return { kind: 'trash-remote', path, key, size: 0, reason: 'deleted-locally', remoteSize: r.size };
    if (direction === 'sync') return skip('deleted-locally');
    return skip('only-remote');
  }
  throw new Error(`unreachable: ${path} on neither side`);
}

/** What a transfer that replaces the other side's version carries. */
interface Replacing {
  replaces: true;
  changed?: Changed;
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
const GONE_LOCALLY: ReadonlySet<Reason> = new Set(['only-remote', 'deleted-locally']);
const GONE_REMOTELY: ReadonlySet<Reason> = new Set(['only-local', 'deleted-remotely']);

/**
 * pairMoves finds content the target side already holds under another name.
 * A new file whose content the remote holds at another key is copied there on
 * the server, not uploaded; when that other path is gone locally and was last
 * synced with that very content, the user moved it, and its old key goes to
 * trash (with or without --delete: a move is not a deletion). The same on the
 * local side for downloads: a local copy, or a rename when the old path is
 * gone from the remote and was synced with that content.
 *
 * Each action it changes is replaced in its slot by a new one; the plan's
 * order (by path) stays.
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
    actions.forEach((a, i) => {
      if (a.kind !== 'upload' || a.reason !== 'new') return;
      const l = input.local.get(a.path);
      const md5 = l?.md5;
      if (!l || !md5) return;
      const srcs = (byMd5.get(md5) ?? []).filter((r) => r.size === l.size && r.path !== a.path);
      const moved = srcs.find((r) => !input.local.has(r.path) && isMove(r.path, md5, GONE_LOCALLY));
      const src = moved ?? srcs[0];
      if (!src) return;
      actions[i] = { kind: 'copy-remote', path: a.path, key: a.key, size: 0, reason: moved ? 'moved' : 'copied', from: src.key, fromPath: src.path };
      if (moved && !trashed.has(moved.path)) {
        trashed.add(moved.path);
        const j = byPathIndex().get(moved.path);
        if (j !== undefined) actions[j] = { kind: 'trash-remote', path: moved.path, key: moved.key, size: 0, reason: 'moved', movedTo: a.path, remoteSize: moved.size };
      }
    });
  }

  // A path gone here whose last sync record says it was being moved to a path
  // that now holds its content is the tail of a move interrupted after the
  // copy and before its old key went to trash: finish it.
  if (input.direction !== 'pull') {
    actions.forEach((a, i) => {
      if (!GONE_LOCALLY.has(a.reason) || (a.kind !== 'skip' && a.kind !== 'trash-remote')) return;
      const rec = input.synced.get(a.path);
      const to = rec?.movedTo;
      const r = input.remote.get(a.path);
      if (!rec || to === undefined || !r || !same(r.md5, rec.md5)) return;
      // The new path holds that content here: planned, or settled as identical before planning.
      const there = same(input.local.get(to)?.md5, rec.md5) || (input.localWithMd5?.(rec.md5) ?? []).some((l) => l.path === to);
      if (there) actions[i] = { kind: 'trash-remote', path: a.path, key: a.key, size: 0, reason: 'moved', movedTo: to, remoteSize: r.size };
    });
  }

  const downloads: Array<{ i: number; a: DownloadAction; md5: string }> = [];
  actions.forEach((a, i) => {
    if (a.kind === 'download' && a.reason === 'new' && a.md5) downloads.push({ i, a, md5: a.md5 });
  });
  if (input.direction !== 'push' && downloads.length > 0) {
    const byMd5 = withLookup(groupByMd5(input.local.values()), input.localWithMd5);
    // A source wanted by several new paths is copied to each, never moved (it is read by all).
    const wanted = new Map<string, number>();
    const pick: Array<{ i: number; a: DownloadAction; src: PlanLocal; moved: boolean }> = [];
    for (const { i, a, md5 } of downloads) {
      const r = input.remote.get(a.path);
      const srcs = (byMd5.get(md5) ?? []).filter((l) => l.size === r?.size && l.path !== a.path);
      const moved = srcs.find((l) => !input.remote.has(l.path) && isMove(l.path, md5, GONE_REMOTELY));
      const src = moved ?? srcs[0];
      if (!src) continue;
      pick.push({ i, a, src, moved: moved !== undefined });
      wanted.set(src.path, (wanted.get(src.path) ?? 0) + 1);
    }
    const drop = new Set<string>();
    for (const { i, a, src, moved } of pick) {
      const here = { path: a.path, key: a.key, size: 0, from: src.path, ...fp(a) } as const;
      if (moved && wanted.get(src.path) === 1) {
        actions[i] = { kind: 'move-local', reason: 'moved', ...here };
        drop.add(src.path);
      } else {
        actions[i] = { kind: 'copy-local', reason: moved ? 'moved' : 'copied', ...here };
      }
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

function fp(r: { fingerprint?: string } | undefined): { fingerprint?: string } {
  return r?.fingerprint ? { fingerprint: r.fingerprint } : {};
}
