/**
 * Names a file system cannot hold, checked before anything is sent or
 * written, so that the problem is reported up front with the file's name:
 * names this machine cannot create, names Windows cannot (for what is sent to
 * a crew), and names that differ only in letter case (one file on the
 * case-insensitive file systems of Windows and macOS).
 */

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
