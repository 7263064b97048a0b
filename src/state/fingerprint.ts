/**
 * The fingerprint of one version of a remote object: what identifies it
 * cheaply, so that a sync record holding the same fingerprint vouches for the
 * object's MD5. It is its ETag, or for remotes without one (folders) its
 * modification time and size. The rule is written here once, for TypeScript
 * and for the SQL that compares fingerprints inside SQLite.
 */
import type { RemoteObject } from '../core/remote-object.js';

/** fingerprint of `o`; undefined when the remote says neither an ETag nor a time. */
export function fingerprint(o: Pick<RemoteObject, 'etag' | 'mtime' | 'size'>): string | undefined {
  if (o.etag) return o.etag;
  if (o.mtime) return `mtime:${o.mtime.getTime()}:${o.size}`;
  return undefined;
}

/** fingerprintSql is {@link fingerprint} as an SQL expression over a `remote_objects` row aliased `o`. */
export function fingerprintSql(o: string): string {
  return `(CASE WHEN ${o}.etag IS NOT NULL THEN ${o}.etag ELSE 'mtime:' || CAST(${o}.mtime_ms AS INTEGER) || ':' || ${o}.size END)`;
}
