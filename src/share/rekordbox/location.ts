/**
 * Rekordbox Location URIs and the absolute paths they name.
 *
 * Rekordbox writes `file://localhost/` + the path with '/' separators,
 * percent-encoded as UTF-8 (`file://localhost/D:/DJ%20Music/x.mp3` on
 * Windows, `file://localhost/Volumes/USB/x.mp3` on macOS). Paths here keep
 * that form: '/'-separated, 'D:/…' for Windows and '/…' otherwise, whatever
 * the OS this runs on. Locations come from other users' files, so decoding
 * refuses anything that is not a plain absolute local path.
 */
import { CratesyncError } from '../../errors.js';

/** A Location value that names no usable local file; the message names the value. */
export class LocationError extends CratesyncError {
  constructor(
    readonly value: string,
    message: string,
  ) {
    super(`Location ${JSON.stringify(value.length > 200 ? value.slice(0, 200) + '…' : value)}: ${message}`);
  }
}

/**
 * trackLocation decodes a TRACK's Location attribute (undefined when it has
 * none) into the path it names, or says why it names none: a refused
 * Location is a fact about that one track, never an error of the file.
 */
export function trackLocation(value: string | undefined): { location: string } | { error: string } {
  if (value === undefined) return { error: 'no Location' };
  try {
    return { location: decodeLocation(value) };
  } catch (err) {
    if (!(err instanceof LocationError)) throw err;
    return { error: err.message };
  }
}

/** Bytes Rekordbox leaves unencoded in a Location (RFC 3986 unreserved, sub-delims, ':', '@' and '/'). */
const KEEP = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/") KEEP[ch.charCodeAt(0)] = 1;
const HEX = '0123456789ABCDEF';

/**
 * A Location attribute value (already XML-unescaped) → the absolute path it names, '/'-separated, percent-decoded,
 * as the exporting OS spelled it: 'D:/DJ Music/x.mp3' (Windows; the drive letter is kept as given) or
 * '/Volumes/USB/x.mp3' / '/home/bob/x.mp3'. Accepts file://localhost/… and file:///…, lower- or upper-case hex.
 * Throws LocationError naming the value for: another scheme (http:, smb:, …), a host other than localhost/empty,
 * a relative path, '..' or '.' or empty segments, a backslash (a separator on Windows), NUL, malformed
 * percent-encoding, invalid UTF-8 after decoding.
 */
export function decodeLocation(value: string): string {
  let encoded: string;
  if (value.startsWith(LOCALHOST)) {
    encoded = value.slice(LOCALHOST.length - 1);
  } else {
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value)?.[1];
    if (scheme === undefined) throw new LocationError(value, 'a relative path, not a file:// URI');
    if (scheme.toLowerCase() !== 'file') throw new LocationError(value, `scheme ${scheme}: is not a local file`);
    const rest = value.slice(scheme.length + 1);
    if (!rest.startsWith('//')) throw new LocationError(value, 'not of the form file://localhost/<absolute path>');
    const slash = rest.indexOf('/', 2);
    const host = rest.slice(2, slash < 0 ? undefined : slash);
    if (host !== '' && host.toLowerCase() !== 'localhost') throw new LocationError(value, `host ${host} is not this machine (only localhost)`);
    if (slash < 0) throw new LocationError(value, 'no path');
    encoded = rest.slice(slash);
  }
  let path = percentDecode(value, encoded);
  if (path.charCodeAt(2) === 0x3a && path.charCodeAt(3) === 0x2f && /^\/[A-Za-z]:\//.test(path)) path = path.slice(1);
  if (path.includes('\0')) throw new LocationError(value, 'a NUL character in the path');
  if (path.includes('\\')) throw new LocationError(value, 'a backslash in the path');
  const bad = BAD_SEGMENT.exec(path);
  if (bad !== null) {
    const s = bad[1] ?? '';
    throw new LocationError(value, s !== '' ? `a '${s}' segment in the path` : bad.index + 1 === path.length ? 'names a folder, not a file' : 'an empty segment in the path');
  }
  return path;
}

const LOCALHOST = 'file://localhost/';
/** A '.' or '..' segment, an empty one, or a trailing '/'. */
const BAD_SEGMENT = /\/(\.\.?)?(?=\/|$)/;

function percentDecode(value: string, s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    const bad = /%(?![0-9A-Fa-f]{2})(.{0,2})/s.exec(s);
    throw new LocationError(value, bad ? `malformed percent-encoding at '%${bad[1]}'` : 'invalid UTF-8 after percent-decoding');
  }
}

/**
 * The Location value Rekordbox writes for absolute path `path` ('/'-separated; 'C:/…' or '/…'): 'file://localhost/' +
 * path (no leading '/' doubled), percent-encoded as Rekordbox does (UTF-8, uppercase hex; keeps A-Za-z0-9 and
 * - . _ ~ ! $ & ' ( ) * + , ; = : @ /; encodes space as %20, #, %, ?, [, ], non-ASCII, controls). NOT XML-escaped.
 */
export function encodeLocation(path: string): string {
  const p = path.startsWith('/') ? path.slice(1) : path;
  let encoded: string;
  try {
    // encodeURI keeps what Rekordbox keeps, and also '?' and '#', which Rekordbox encodes.
    encoded = encodeURI(p);
  } catch {
    // A lone surrogate (no file system hands one out): encode what UTF-8 makes of it.
    return LOCALHOST + encodeBytes(Buffer.from(p, 'utf8'));
  }
  if (encoded.includes('?') || encoded.includes('#')) encoded = encoded.replace(/\?/g, '%3F').replace(/#/g, '%23');
  return LOCALHOST + encoded;
}

function encodeBytes(bytes: Buffer): string {
  let out = '';
  for (const b of bytes) out += b < 0x80 && KEEP[b] ? String.fromCharCode(b) : '%' + HEX[b >> 4] + HEX[b & 15];
  return out;
}

/** True for a Windows-style path ('C:/…'). */
export function isWindowsPath(path: string): boolean {
  return /^[A-Za-z]:\//.test(path);
}

/**
 * The part of `path` below `root` ('/'-separated, no leading '/'), spelled as in `path`, or undefined when `path`
 * is not under it (or is the root itself, or the two are of different OS styles). Windows paths compare
 * case-insensitively (drive letters and names), others exactly; both compared in NFC, segment by segment.
 */
export function relativeTo(path: string, root: string): string | undefined {
  const windows = isWindowsPath(root);
  if (windows !== isWindowsPath(path) || (!windows && !(root.startsWith('/') && path.startsWith('/')))) return undefined;
  const bare = root.replace(/\/+$/, '');
  if (path.charCodeAt(bare.length) === 0x2f && path.length > bare.length + 1) {
    const head = path.slice(0, bare.length);
    if (head === bare || (windows && head.toLowerCase() === bare.toLowerCase())) return path.slice(bare.length + 1);
  }
  const fold = (s: string) => (windows ? s.normalize('NFC').toLowerCase() : s.normalize('NFC'));
  const r = bare.split('/');
  const p = path.split('/');
  if (p.length <= r.length) return undefined;
  for (let k = 0; k < r.length; k++) {
    const a = r[k] as string;
    const b = p[k] as string;
    if (a !== b && fold(a) !== fold(b)) return undefined;
  }
  const rel = p.slice(r.length).join('/');
  return rel === '' ? undefined : rel;
}

/** Joins root + rel ('/'-separated, no leading '/') for the OS style of root: both forms use '/'. */
export function joinPath(root: string, rel: string): string {
  return root.replace(/\/+$/, '') + '/' + rel.replace(/^\/+/, '');
}

/** This machine's absolute native path → the form above (on Windows 'C:\\x' → 'C:/x'; elsewhere unchanged). */
export function toLocationPath(native: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? native.replace(/\\/g, '/') : native;
}
