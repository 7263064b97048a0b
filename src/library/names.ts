/**
 * Names a file system cannot hold, checked before anything is sent or
 * written, so that the problem is reported up front with the file's name:
 * names this machine cannot create, names Windows cannot (for what is sent to
 * a crew), and names that differ only in letter case (one file on the
 * case-insensitive file systems of Windows and macOS).
 */

import type { Problem } from '../core/problem.js';

const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/**
 * nfc gives the NFC spelling of a name. Printable ASCII is NFC already and is
 * returned as is: most names are, and normalising every one would be a large
 * part of the work of a walk, which calls this once per file.
 */
export function nfc(s: string): string {
  return PLAIN_ASCII.test(s) ? s : s.normalize('NFC');
}

/** Characters Windows (and exFAT/NTFS volumes mounted elsewhere) refuse in a name. */
const WINDOWS_BAD = /[<>:"\\|?*\u0000-\u001f]/;
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/**
 * localNameProblem says why library path `path` cannot be created here, or
 * undefined when it can. On Windows the Windows rules apply; elsewhere only
 * what POSIX file systems refuse (NUL, '.'/'..', components over 255 bytes).
 */
export function localNameProblem(path: string, platform: NodeJS.Platform = process.platform): string | undefined {
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') return `invalid path component ${JSON.stringify(part)}`;
    if (part.includes('\u0000')) return 'name contains a NUL character';
    if (Buffer.byteLength(part) > 255) return `name component longer than 255 bytes: ${part.slice(0, 40)}…`;
    if (platform === 'win32') {
      if (WINDOWS_BAD.test(part)) return `name holds a character Windows does not allow: ${part}`;
      if (WINDOWS_RESERVED.test(part)) return `reserved name on Windows: ${part}`;
      if (/[. ]$/.test(part)) return `name ends with a dot or space, which Windows drops: ${part}`;
    }
  }
  return undefined;
}

/**
 * portableNameProblem says why library path `path` cannot be created on
 * Windows (whatever this machine runs), or undefined when it can.
 */
export function portableNameProblem(path: string): string | undefined {
  return localNameProblem(path, 'win32');
}

/**
 * caseClashes finds library paths that would sit side by side after a run
 * while differing only in letter case: pulled onto Windows or macOS, they
 * would overwrite each other. Of each such group one path is kept — the one
 * on both sides, else the one the target side already holds, else the first
 * in code-point order — and the others are returned with why, to be refused
 * before anything is sent. A path on
 * one side only that was synced before is on its way out (it was renamed,
 * moved or deleted on the other side), so it clashes with nothing: a rename
 * that only changes letter case is a move, not a clash.
 */
export function caseClashes(
  local: Iterable<string>,
  remote: Iterable<string>,
  wasSynced: (path: string) => boolean = () => false,
  /** The side a run writes to: its spelling is kept over the other side's (push, sync: 'remote'). */
  target: 'local' | 'remote' = 'remote',
): Map<string, string> {
  const sides = new Map<string, number>(); // 1 local, 2 remote, 3 both
  for (const p of local) sides.set(p, 1);
  for (const p of remote) sides.set(p, (sides.get(p) ?? 0) | 2);
  const first = new Map<string, string>();
  const groups = new Map<string, string[]>();
  for (const p of sides.keys()) {
    const folded = p.toLowerCase();
    const seen = first.get(folded);
    if (seen === undefined) {
      first.set(folded, p);
      continue;
    }
    const g = groups.get(folded);
    if (g) g.push(p);
    else groups.set(folded, [seen, p]);
  }
  const out = new Map<string, string>();
  for (const g of groups.values()) {
    const staying = g.filter((p) => sides.get(p) === 3 || !wasSynced(p)).sort();
    if (staying.length < 2) continue;
    const mine = target === 'remote' ? 2 : 1;
    const keep = staying.find((p) => sides.get(p) === 3) ?? staying.find((p) => sides.get(p) === mine) ?? staying[0];
    for (const p of staying) {
      if (p !== keep) out.set(p, `differs only in letter case from ${keep}: Windows and macOS cannot hold both; rename one`);
    }
  }
  return out;
}

/** The local trash folder at the library root (sync/layout.ts names it for the sync layer). */
const TRASH_FOLDER = '.cratesync-trash';

/** Temporary files of downloads (see sync/transfer.ts): `.<name>.cratesync-<hex>.part`. */
export const PART_FILE = /^\..+\.cratesync-[0-9a-f]+\.part$/;

/**
 * skippedName says why a file or folder called `name` is never part of a
 * library, or undefined when it may be. This is the one name policy of both
 * sides: the walk skips such entries (and what is under them), and a remote
 * key with such a component anywhere is skipped too ({@link foreignPathProblem}),
 * so that no key can address a path the walk would not produce — the trash
 * folder, a download in progress, `.git`, macOS `._` forks.
 */
export function skippedName(name: string): string | undefined {
  if (name.charCodeAt(0) !== 0x2e /* '.' */) return undefined;
  if (name === TRASH_FOLDER) return 'the trash folder, which is never synced';
  if (PART_FILE.test(name)) return 'a partial download';
  return HIDDEN;
}

const HIDDEN = 'a hidden name, which is never synced';

/** Why a remote path is skipped, and the part of it that decided (a folder, or the whole path). */
export interface ForeignPath {
  reason: string;
  /** The path up to the component at fault: a folder prefix, or the path itself. */
  where: string;
  /**
   * A hidden file name (`.DS_Store`, macOS `._` forks), which the walk skips
   * without a word: tools that copy whole folders leave them everywhere, and
   * they are no one's music.
   */
  quiet?: boolean;
}

/**
 * foreignPathProblem says why library path `path`, made from a remote key,
 * is one a walk of this machine's library would never produce — a component
 * {@link skippedName} rules out, or a name this file system cannot hold
 * ({@link localNameProblem}) — or undefined when it is an ordinary path. Such
 * keys are somebody else's business: syncing them would write, or trash, a
 * local file the library does not know (a bucket is shared; what others put
 * there is untrusted).
 */
export function foreignPathProblem(path: string, platform: NodeJS.Platform = process.platform): ForeignPath | undefined {
  let start = 0;
  for (;;) {
    const end = path.indexOf('/', start);
    const name = end < 0 ? path.slice(start) : path.slice(start, end);
    const reason = skippedName(name);
    if (reason) {
      if (end >= 0) return { reason, where: path.slice(0, end + 1) };
      return reason === HIDDEN ? { reason, where: path, quiet: true } : { reason, where: path };
    }
    if (end < 0) break;
    start = end + 1;
  }
  const bad = localNameProblem(path, platform);
  return bad ? { reason: `${bad}, which this computer cannot store`, where: path } : undefined;
}

/** At most this many groups of skipped paths are reported apart; the rest are counted in one. */
const MAX_GROUPS = 20;

/**
 * SkippedPaths gathers the remote paths {@link foreignPathProblem} rules out
 * and reports them (but hidden file names: see {@link ForeignPath.quiet}) as
 * few problems: one per folder at fault (all the keys
 * under a planted `.cratesync-trash/` are one line), one per reason for file
 * names, and past a few groups one line counting the rest.
 */
export class SkippedPaths {
  private readonly groups = new Map<string, { where: string; reason: string; count: number }>();
  private rest = 0;

  /** skip tells whether `path` is to be skipped, noting it when it is. */
  skip(path: string): boolean {
    const bad = foreignPathProblem(path);
    if (!bad) return false;
    if (bad.quiet) return true;
    const folder = bad.where.endsWith('/');
    const id = folder ? bad.where : bad.reason;
    const g = this.groups.get(id);
    if (g) g.count++;
    else if (this.groups.size < MAX_GROUPS) this.groups.set(id, { where: bad.where, reason: bad.reason, count: 1 });
    else this.rest++;
    return true;
  }

  /** report pushes one problem per group to `problems`. */
  report(problems: Problem[]): void {
    for (const { where, reason, count } of this.groups.values()) {
      const more = count > 1 ? ` (${count} objects)` : '';
      const message = where.endsWith('/')
        ? `remote objects under this folder are skipped${more}: ${reason}`
        : `remote object skipped${count > 1 ? `, and ${count - 1} more like it` : ''}: ${reason}`;
      problems.push({ path: where, message });
    }
    if (this.rest > 0) problems.push({ path: '(remote)', message: `${this.rest} more remote objects skipped: names a library never holds` });
  }
}

/**
 * fileName makes one name from elsewhere (a playlist's, a folder's) a safe
 * file name component on every OS (Windows rules, the strictest): it can
 * never climb out of its folder.
 */
export function fileName(name: string): string {
  let s = name.normalize('NFC').replace(/[<>:"/\\|?*\u0000-\u001f]/g, '_').replace(/[. ]+$/, '');
  if (/^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i.test(s)) s = `_${s}`;
  while (Buffer.byteLength(s) > 200) s = s.slice(0, -1);
  return s === '' || s === '.' || s === '..' ? '_' : s;
}
