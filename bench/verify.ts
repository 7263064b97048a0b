/**
 * Checking what a tool left in its bucket, with the AWS SDK against s3rver:
 * every library file under `dj/music/` with its size (and, when the expected
 * MD5 is given, its content), nothing else there; and, across a no-op run,
 * which objects were written again.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LibraryFile } from './library.js';

// The bench runs on Node 20 on purpose (the project's floor); the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export interface ObjectInfo {
  size: number;
  lastModified: number;
  etag: string;
}

export type Listing = Map<string, ObjectInfo>;

/** A file the bucket must hold; with `md5`, its content is checked too. */
export interface ExpectedFile extends LibraryFile {
  md5?: string;
}

export interface Verdict {
  missing: number;
  wrongSize: number;
  /** Right size, but an ETag that is a plain MD5 other than the file's. */
  wrongContent: number;
  extra: number;
  /** Up to three examples of what is wrong, for the report. */
  examples: string[];
}

export const MUSIC_PREFIX = 'dj/music/';

/** listPrefix lists every object under `prefix` in `bucket`, paging past 1,000 keys. Rejects on any S3 error. */
export async function listPrefix(endpoint: string, bucket: string, prefix: string): Promise<Listing> {
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const out: Listing = new Map();
  try {
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined) continue;
        out.set(o.Key, { size: o.Size ?? -1, lastModified: o.LastModified?.getTime() ?? 0, etag: o.ETag ?? '' });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return out;
}

/**
 * judge compares a listing of `prefix` with the files that should be there.
 * Content is compared only for files given with an MD5 whose object has a
 * single-part ETag (an MD5 itself; multipart ETags hold a `-`).
 */
export function judge(expected: ExpectedFile[], listing: Listing, prefix = MUSIC_PREFIX): Verdict {
  const v: Verdict = { missing: 0, wrongSize: 0, wrongContent: 0, extra: 0, examples: [] };
  const note = (s: string) => v.examples.length < 3 && v.examples.push(s);
  const wanted = new Set<string>();
  for (const f of expected) {
    const key = prefix + f.path;
    wanted.add(key);
    const o = listing.get(key);
    if (!o) {
      v.missing++;
      note(`missing ${key}`);
    } else if (o.size !== f.size) {
      v.wrongSize++;
      note(`${key}: ${o.size} bytes, expected ${f.size}`);
    } else if (f.md5 !== undefined && /^"?[0-9a-f]{32}"?$/i.test(o.etag) && o.etag.replace(/"/g, '').toLowerCase() !== f.md5) {
      v.wrongContent++;
      note(`${key}: ETag ${o.etag}, expected the MD5 ${f.md5}`);
    }
  }
  for (const key of listing.keys()) {
    if (!wanted.has(key)) {
      v.extra++;
      note(`unexpected ${key}`);
    }
  }
  return v;
}

/** faults says what is wrong in a verdict, in words, or undefined when nothing is. */
export function faults(v: Verdict): string | undefined {
  if (!v.missing && !v.wrongSize && !v.wrongContent && !v.extra) return undefined;
  return `${v.missing} missing, ${v.wrongSize} with the wrong size, ${v.wrongContent} with the wrong content, ${v.extra} unexpected (${v.examples.join('; ')})`;
}

/** Object file → mtime (ns) in s3rver's store; see {@link storeSnapshot}. */
export type StoreSnapshot = Map<string, bigint>;

/**
 * storeSnapshot records the modification time of every object file of
 * `bucket` in s3rver's directory (it keeps each object as
 * `<dir>/<bucket>/<key>._S3rver_object`). S3's LastModified has one-second
 * resolution there, too coarse to see an object rewritten right after it was
 * first written; the files' nanosecond mtimes are not.
 */
export async function storeSnapshot(serverDir: string, bucket: string): Promise<StoreSnapshot> {
  const out: StoreSnapshot = new Map();
  async function visit(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) await visit(abs);
      else if (e.name.endsWith('._S3rver_object')) out.set(abs, (await lstat(abs, { bigint: true })).mtimeNs);
    }
  }
  await visit(join(serverDir, bucket));
  return out;
}

/** rewritten counts objects of `before` written again (or removed) by the time of `after`. */
export function rewritten(before: StoreSnapshot, after: StoreSnapshot): number {
  let n = 0;
  for (const [file, mtime] of before) if (after.get(file) !== mtime) n++;
  return n;
}
