/**
 * Rekordbox Location URIs ↔ absolute '/'-separated paths (stub: interface first).
 */
import { CratesyncError } from '../../errors.js';

/** A Location value that cannot be used; the message names the value. */
export class LocationError extends CratesyncError {
  constructor(
    readonly value: string,
    message: string,
  ) {
    super(`Location ${JSON.stringify(value)}: ${message}`);
  }
}

/** A Location attribute value (already XML-unescaped) → the absolute path it names. Throws LocationError. */
export function decodeLocation(value: string): string {
  throw new LocationError(value, 'not implemented');
}

/** The Location value Rekordbox writes for absolute path `path`. NOT XML-escaped. */
export function encodeLocation(path: string): string {
  return 'file://localhost/' + path;
}

/** True for a Windows-style path ('C:/…'). */
export function isWindowsPath(path: string): boolean {
  return /^[A-Za-z]:\//.test(path);
}

/** The part of `path` below `root` ('/'-separated, no leading '/'), or undefined when `path` is not under it. */
export function relativeTo(path: string, root: string): string | undefined {
  void path;
  void root;
  return undefined;
}

/** Joins root + rel for OS style of root. */
export function joinPath(root: string, rel: string): string {
  return root.replace(/\/+$/, '') + '/' + rel;
}

/** This machine's absolute native path → the form above (on Windows 'C:\\x' → 'C:/x'; elsewhere unchanged). */
export function toLocationPath(native: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? native.replace(/\\/g, '/') : native;
}
