/**
 * Names a file system cannot hold, checked before anything is sent or
 * written, so that the problem is reported up front with the file's name:
 * names this machine cannot create, names Windows cannot (for what is sent to
 * a crew), and names that differ only in letter case (one file on the
 * case-insensitive file systems of Windows and macOS).
 */

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
 * caseClashes finds library paths, across both sides, that differ only in
 * letter case. Of each such group the path present on both sides is kept (or,
 * if none is, the first in code-point order); the others are returned with
 * why, to be refused before anything is sent: pulled onto Windows or macOS,
 * they would overwrite each other.
 */
export function caseClashes(...sides: Iterable<string>[]): Map<string, string> {
  const counts = new Map<string, number>();
  const groups = new Map<string, string[]>();
  for (const side of sides) {
    for (const path of side) {
      counts.set(path, (counts.get(path) ?? 0) + 1);
      if (counts.get(path) !== 1) continue;
      const folded = path.toLowerCase();
      const g = groups.get(folded);
      if (g) g.push(path);
      else groups.set(folded, [path]);
    }
  }
  const out = new Map<string, string>();
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    g.sort();
    const keep = g.find((p) => (counts.get(p) ?? 0) > 1) ?? g[0];
    for (const p of g) {
      if (p !== keep) out.set(p, `differs only in letter case from ${keep}: Windows and macOS cannot hold both; rename one`);
    }
  }
  return out;
}
