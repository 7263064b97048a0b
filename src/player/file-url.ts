/**
 * file:// URLs as players store them (Qt's QUrl::toEncoded, GLib's
 * g_filename_to_uri) → the absolute path they name, in the player's own
 * form: `/home/bob/x.mp3`, or `C:\Music\x.mp3` for a URL of a Windows
 * drive, whatever OS cratesync runs on (path-map.ts maps it to this
 * machine). A player database is untrusted input: anything that is not a
 * plain absolute local path is refused with the reason.
 */

/** True when `url` is a file: URL (any case); other schemes are streams or services, not files. */
export function isFileUrl(url: string): boolean {
  return /^file:/i.test(url);
}

/**
 * fileUrlToPath decodes `file:///dir/a%20b.mp3`, `file://localhost/…` and
 * `file:///C:/dir/x.mp3` (→ `C:\dir\x.mp3`); a host other than localhost
 * becomes a UNC path `\\host\share\x.mp3`. Returns `{ error }` for another
 * scheme, a relative path, malformed percent-encoding or a NUL byte.
 */
export function fileUrlToPath(url: string): { path: string } | { error: string } {
  const m = /^file:\/\/([^/]*)(\/.*)?$/is.exec(url);
  if (m === null) return { error: 'not a file:// URL naming an absolute path' };
  const host = m[1] ?? '';
  let path: string;
  try {
    path = decodeURIComponent(m[2] ?? '');
  } catch {
    return { error: 'malformed percent-encoding' };
  }
  if (path.includes('\0')) return { error: 'a NUL byte in the path' };
  if (path === '' || path === '/') return { error: 'no file named' };
  if (host !== '' && host.toLowerCase() !== 'localhost') return { path: `\\\\${host}${path.replaceAll('/', '\\')}` };
  if (/^\/[A-Za-z]:\//.test(path)) return { path: path.slice(1).replaceAll('/', '\\') };
  return { path };
}
