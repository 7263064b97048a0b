/**
 * Which keys a folder remote can hold, and the names of the temporary files
 * it writes while a transfer is in progress.
 */
import { randomBytes } from 'node:crypto';
import { truncateUtf8 } from '../local-io.js';

/** Most file systems (ext4, APFS, NTFS, exFAT) cap one path component at 255 bytes. */
const MAX_COMPONENT_BYTES = 255;

const TEMP_MARK = '.cratesync-tmp-';
const TEMP_RE = /^\..*\.cratesync-tmp-[0-9a-f]{12}$/s;

/**
 * tempName returns a fresh hidden temporary name for a file about to become
 * `base` (`.<base>.cratesync-tmp-<random>`). The base is shortened so that the
 * temporary name itself stays within the component limit.
 */
export function tempName(base: string): string {
  const room = MAX_COMPONENT_BYTES - 1 - TEMP_MARK.length - 12;
  return `.${truncateUtf8(base, room)}${TEMP_MARK}${randomBytes(6).toString('hex')}`;
}

/** isTempName tells whether a directory entry is one of our temporary files (listings skip them). */
export function isTempName(name: string): boolean {
  return TEMP_RE.test(name);
}

/**
 * checkFolderKey returns why `key` cannot be stored as a file under a folder
 * remote, or undefined when it can. Besides file-system limits this guards the
 * root: '.', '..', empty components and absolute keys are refused, so no key
 * can address a path outside the remote.
 */
export function checkFolderKey(key: string): string | undefined {
  if (key === '') return 'the name is empty';
  if (key.includes('\0')) return 'the name contains a NUL character';
  if (process.platform === 'win32' && /[\\:*?"<>|]/.test(key)) return 'the name contains a character Windows does not allow (\\ : * ? " < > |)';
  for (const part of key.split('/')) {
    if (part === '') return "the name has an empty path component (a leading, trailing or doubled '/')";
    if (part === '.' || part === '..') return `the name has a '${part}' path component`;
    const bytes = Buffer.byteLength(part);
    if (bytes > MAX_COMPONENT_BYTES) {
      return `the path component "${truncateUtf8(part, 40)}…" is ${bytes} bytes long; file systems allow ${MAX_COMPONENT_BYTES}`;
    }
    if (isTempName(part)) return 'the name looks like a cratesync temporary file';
  }
  return undefined;
}
