/**
 * Names a local file system cannot hold. Checked before a pull writes
 * anything, so the problem is reported up front with the file's name.
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
