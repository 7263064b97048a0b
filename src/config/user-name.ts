/**
 * What a crew member's name may be. One rule for the config's `user`, the
 * --user flag and the names read back from a shared bucket, because a name
 * becomes part of object keys (`.cratesync/users/<name>.json`,
 * `collections/<name>/…`) and of local folder names.
 */

/** The longest name, in UTF-16 units as JavaScript counts them. */
export const USER_NAME_MAX = 64;

const USER_NAME_RE = /^[\p{L}\p{N}._-]+$/u;

/**
 * userNameProblem returns why `name` cannot be a user name, or undefined
 * when it can: 1–64 letters, digits, dots, dashes or underscores, in NFC, and
 * not `.` or `..` (which a path would read as a folder step).
 */
export function userNameProblem(name: string): string | undefined {
  if (name.length === 0 || name.length > USER_NAME_MAX || !USER_NAME_RE.test(name)) {
    return `must be 1–${USER_NAME_MAX} letters, digits, dots, dashes or underscores`;
  }
  if (name === '.' || name === '..') return 'must not be "." or ".."';
  if (name !== name.normalize('NFC')) return 'must be in Unicode normal form C (NFC)';
  return undefined;
}
