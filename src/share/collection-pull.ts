/**
 * Writing another user's collection for the reader: every TRACK Location
 * (and KeyType 1 playlist key) rewritten to the reader's own file, by the
 * streaming rewriter (rekordbox/collection-rewriter.ts), so that everything
 * else stays byte for byte. A track that is not in the bucket, or whose
 * Location was refused, gets an empty Location: a path from another machine
 * never reaches the output.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { finished } from 'node:stream/promises';
import type { Remote } from '../remote/remote.js';
import type { CollectionIndex } from './collection-index.js';
import type { ResolvedTrack } from './collection-resolve.js';
import type { FoundCollection } from './collection-store.js';
import { rewriteCollection, type RewriteStats } from './rekordbox/collection-rewriter.js';
import { toLocationPath } from './rekordbox/location.js';
import { downloadCollection } from './collection-store.js';
import { fileName } from '../library/names.js';
import { PLAYLISTS_DIR } from '../library/filter.js';
import { trashLocal } from '../sync/trash.js';
import { trashStamp } from '../sync/layout.js';

/** Where `collection pull` writes `user`'s collection unless told: beside the playlists pulled from that user. */
export function defaultCollectionOut(root: string, user: string): string {
  return join(root, PLAYLISTS_DIR, fileName(user), 'rekordbox.xml');
}

export interface RewriteFileOptions {
  remote: Remote;
  user: string;
  found: Pick<FoundCollection, 'key' | 'gzipped'>;
  index: CollectionIndex;
  resolved: ReadonlyMap<string, ResolvedTrack>;
  /** The reader's library root. */
  root: string;
  tmpDir: string;
  /** The XML, when already downloaded. */
  xmlFile?: string;
  out?: string;
}

export interface RewrittenFile {
  out: string;
  stats: RewriteStats;
  /** Tracks written with an empty Location, and why. */
  refused: string[];
  /** How long the rewrite took (download excluded), ms. */
  ms: number;
}

/**
 * rewriteCollectionFile writes the reader's copy of a collection to `out`
 * (default: defaultCollectionOut), atomically. A file it replaces with other
 * content is kept: in the library's trash when it is in the library, else
 * beside it as `<out>.<time>.bak`. Throws XmlError for a malformed XML
 * (nothing is written then).
 */
export async function rewriteCollectionFile(o: RewriteFileOptions): Promise<RewrittenFile> {
  const xml = o.xmlFile ?? join(o.tmpDir, `${randomBytes(6).toString('hex')}.xml`);
  if (!o.xmlFile) await downloadCollection(o.remote, o.found, xml);
  const t0 = performance.now();
  const out = o.out ?? defaultCollectionOut(o.root, o.user);
  const inside = o.root.endsWith(sep) ? o.root : o.root + sep;
  const refused: string[] = [];
  const tmp = `${out}.${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(dirname(out), { recursive: true });
  const sink = createWriteStream(tmp);
  let stats: RewriteStats;
  try {
    stats = await rewriteCollection(createReadStream(xml, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, sink, {
      track: (t) => {
        const r = o.resolved.get(t.id);
        if (!r?.abs || r.state === 'unmatched') {
          refused.push(`TrackID ${t.id}: ${t.error ?? r?.why ?? 'not in the collection index'}`);
          return undefined;
        }
        // Resolved paths are built under the root from checked library paths: this only guards that contract.
        if (!r.abs.startsWith(inside)) {
          refused.push(`TrackID ${t.id}: ${r.path ?? ''} resolves outside the library`);
          return undefined;
        }
        return toLocationPath(r.abs);
      },
    }, o.found.key);
    sink.end();
    await finished(sink);
  } catch (err) {
    sink.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
  await keepOld(out, tmp, o.root);
  await rename(tmp, out);
  return { out, stats, refused, ms: performance.now() - t0 };
}

/** True when files `a` and `b` hold the same bytes; compared a chunk at a time (a collection is large). */
async function sameBytes(a: string, b: string): Promise<boolean> {
  const [fa, fb] = await Promise.all([open(a, 'r'), open(b, 'r')]);
  try {
    const [x, y] = [Buffer.alloc(1 << 20), Buffer.alloc(1 << 20)];
    for (;;) {
      const [{ bytesRead: n }, { bytesRead: m }] = await Promise.all([fa.read(x, 0, x.length), fb.read(y, 0, y.length)]);
      if (n !== m || !x.subarray(0, n).equals(y.subarray(0, m))) return false;
      if (n === 0) return true;
    }
  } finally {
    await Promise.all([fa.close(), fb.close()]);
  }
}

/** Keeps the file at `out` before `next` replaces it, unless they are the same. */
async function keepOld(out: string, next: string, root: string): Promise<void> {
  const old = await stat(out).catch(() => undefined);
  if (!old) return;
  if (old.size === (await stat(next)).size && (await sameBytes(out, next))) return;
  const rel = relative(root, out);
  if (!rel.startsWith('..') && !rel.startsWith(sep)) await trashLocal(root, trashStamp(), rel.split(sep).join('/'), out);
  else await rename(out, `${out}.${trashStamp()}.bak`);
}
