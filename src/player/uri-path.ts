/**
 * file:// URIs as media players write them (Rhythmbox, iTunes/Music,
 * Clementine…) → the player's own absolute path. A location comes from a
 * file cratesync does not control, so decoding refuses whatever is not a
 * plain absolute local path instead of guessing.
 */

/** A location that names no usable local file; the message says why, without the value. */
export class UriPathError extends Error {}

/** After a '/': an empty, '.' or '..' segment (a trailing '/' included). */
const BAD_SEGMENT = /\/(?:\.\.?)?(?:\/|$)/;

/**
 * uriToPath decodes `uri` into the absolute path it names, as the player's
 * OS spells it: `file:///home/me/a%20b.mp3` → `/home/me/a b.mp3`,
 * `file://localhost/C:/Music/x.mp3` or `file:///C:/Music/x.mp3` →
 * `C:\Music\x.mp3`, `file://localhost//nas/share/x.mp3` (a Windows share) →
 * `\\nas\share\x.mp3`. The host must be empty or `localhost`.
 * Throws UriPathError for another scheme, another host, malformed
 * percent-encoding or invalid UTF-8, NUL, a backslash (encoded), or a
 * `.`/`..`/empty segment.
 */
export function uriToPath(uri: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1];
  if (scheme === undefined) throw new UriPathError('not a URI');
  if (scheme.toLowerCase() !== 'file') throw new UriPathError(`scheme ${scheme}: is not a local file`);
  const rest = uri.slice(scheme.length + 1);
  if (!rest.startsWith('//')) throw new UriPathError('not of the form file:///<absolute path>');
  const slash = rest.indexOf('/', 2);
  const host = rest.slice(2, slash < 0 ? undefined : slash);
  if (host !== '' && host.toLowerCase() !== 'localhost') throw new UriPathError(`host ${host} is not this machine`);
  if (slash < 0) throw new UriPathError('no path');
  let path: string;
  try {
    path = decodeURIComponent(rest.slice(slash));
  } catch {
    throw new UriPathError('malformed percent-encoding or invalid UTF-8');
  }
  if (path.includes('\0')) throw new UriPathError('a NUL character in the path');
  // A backslash would be a separator on Windows: '%5C..%5C' must not smuggle a '..' segment past the check below.
  if (path.includes('\\')) throw new UriPathError('a backslash in the path');
  let windows = false;
  if (/^\/[A-Za-z]:\//.test(path)) {
    path = path.slice(1);
    windows = true;
  } else if (path.startsWith('//')) {
    windows = true; // \\server\share
  }
  const tail = path.startsWith('//') ? path.slice(1) : windows ? path.slice(2) : path;
  if (BAD_SEGMENT.test(tail)) throw new UriPathError('an empty, "." or ".." segment in the path');
  return windows ? path.replace(/\//g, '\\') : path;
}
