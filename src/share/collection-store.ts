/**
 * Pushing a collection and fetching one back: the XML and its index on the
 * remote (layout in collection-keys.ts). The XML is read as a stream, never
 * whole: a large collection costs memory for its index, not for its bytes.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Remote } from '../remote/remote.js';
import type { Problem } from '../core/problem.js';
import type { PlaylistNode } from './rekordbox/collection-reader.js';
import { readCollection } from './rekordbox/collection-reader.js';
import { copyWithin } from '../sync/trash.js';
import { trashStamp } from '../sync/layout.js';
import { parseEtag } from '../core/etag.js';
import { CratesyncError, describe, NotFoundError, UsageError } from '../errors.js';
import type { RemoteObject } from '../core/remote-object.js';
import { currentKey, indexKey, legacyKey, listVersions, versionKey, type CollectionVersion } from './collection-keys.js';
import { INDEX_KIND, matchTracks, type CollectionIndex, type IndexedTrack, type KnownPaths, type LocalMd5 } from './collection-index.js';
import { decodeIndex, decodeIndexXml, encodeIndex } from './collection-index-codec.js';

/** Reads a file as chunks, hashing them on the way (MD5 and size). */
async function* hashed(file: string, into: { md5?: string; size: number }): AsyncGenerator<Buffer> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    h.update(chunk as Buffer);
    into.size += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
  into.md5 = h.digest('hex');
}

/** Playlists (not folders) in a tree. */
export function countPlaylists(n: PlaylistNode): number {
  return n.type === 'playlist' ? 1 : n.children.reduce((s, c) => s + countPlaylists(c), 0);
}

export interface PushCollectionOptions {
  remote: Remote;
  /** The collection XML on this machine. */
  xmlFile: string;
  user: string;
  /** `user@machine`. */
  writer: string;
  /** What the remote holds, made when matching starts and dropped when it ends (it is most of the memory a push holds). */
  known: () => KnownPaths;
  localMd5?: LocalMd5;
  /** The user's library roots from the users registry (see rankRoots). */
  hints?: readonly string[];
  /** Temporary files go here. */
  tmpDir: string;
  now?: Date;
  signal?: AbortSignal;
}

export interface PushedCollection {
  version: string;
  /** True when the newest version is this very XML: nothing was stored. */
  unchanged: boolean;
  tracks: number;
  playlists: number;
  matched: Record<'root' | 'name' | 'hash', number>;
  /** Tracks matched to no object: listed, never dropped. */
  unmatched: IndexedTrack[];
  roots: string[];
  /** Bytes of the XML. */
  size: number;
  /** A current object that was no version of ours (DJ-Tools wrote it), kept as a version before it was replaced. */
  kept?: string;
  /** How long reading and matching the XML took, ms. */
  indexMs: number;
}

/**
 * pushCollection indexes `xmlFile` (matching its tracks to objects, see
 * collection-index.ts) and stores it as a new version of `user`'s
 * collection, its index, and the current object DJ-Tools reads. Throws
 * XmlError (with the line) for a malformed XML, before anything is stored.
 */
export async function pushCollection(o: PushCollectionOptions): Promise<PushedCollection> {
  const t0 = performance.now();
  const facts: { md5?: string; size: number } = { size: 0 };
  const summary = await readCollection(hashed(o.xmlFile, facts), o.xmlFile);
  const md5 = facts.md5 ?? '';
  const { tracks, roots } = await matchTracks(summary, o.known(), o.localMd5, o.hints ?? []);
  summary.tracks = []; // the index holds what is kept of them
  const matched = { root: 0, name: 0, hash: 0 };
  for (const t of tracks) if (t.by) matched[t.by]++;
  const result = {
    tracks: tracks.length,
    playlists: countPlaylists(summary.playlists),
    matched,
    unmatched: tracks.filter((t) => t.path === undefined),
    roots,
    size: facts.size,
    indexMs: performance.now() - t0,
  };

  const versions = await listVersions(o.remote, o.user, o.signal);
  const newest = [...versions].reverse().find((v) => v.index);
  // Only which XML the newest index was made for: a large index whole would be most of a push's memory.
  const newestXml = newest?.index ? await o.remote.read(newest.index).then(decodeIndexXml, () => undefined) : undefined;
  const current = await o.remote.stat(currentKey(o.user)).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  });
  const currentIsNewest = current && newestXml ? await isVersion(o.remote, current, newestXml) : false;
  if (newest && newestXml?.md5 === md5 && currentIsNewest) return { ...result, version: newest.version, unchanged: true };

  const now = o.now ?? new Date();
  let kept: string | undefined;
  if (current && !currentIsNewest) {
    // Not a version of ours (another tool replaced it): kept before it is replaced.
    kept = versionKey(o.user, trashStamp(new Date(now.getTime() - 1)), true);
    await copyWithin(o.remote, current.key, kept, current.size);
  }
  const version = trashStamp(now);
  const index: CollectionIndex = {
    v: 1,
    kind: INDEX_KIND,
    user: o.user,
    writer: o.writer,
    at: now.getTime(),
    xml: { md5, size: facts.size },
    roots,
    tracks,
    playlists: summary.playlists,
  };
  const gz = join(o.tmpDir, `collection-${randomBytes(6).toString('hex')}.xml.gz`);
  try {
    await pipeline(createReadStream(o.xmlFile), createGzip(), createWriteStream(gz));
    await o.remote.put(versionKey(o.user, version), { path: gz });
  } finally {
    await rm(gz, { force: true });
  }
  // The index last, with the ETag the current object got: a push cut short
  // before it leaves a current object without an index, which readers match
  // for themselves.
  const put = await o.remote.put(currentKey(o.user), { path: o.xmlFile }, { expectMd5: md5 });
  if (put.etag) index.xml.etag = put.etag;
  await o.remote.put(indexKey(o.user, version), { data: await encodeIndex(index) });
  return { ...result, version, unchanged: false, ...(kept ? { kept } : {}) };
}

/** readIndex reads and checks the index of a kept version. */
export async function readIndex(remote: Remote, v: CollectionVersion): Promise<CollectionIndex> {
  if (!v.index) throw new NotFoundError(indexKey(v.user, v.version));
  return decodeIndex(await remote.read(v.index), v.index);
}

/** A user's collection as found on the remote: where its XML is, and the index stored for it. */
export interface FoundCollection {
  user: string;
  /** The kept version, when it is one of ours. */
  version?: string;
  /** The key of its XML. */
  key: string;
  /** True when the key holds gzipped XML (a kept version). */
  gzipped: boolean;
  /** Its index, when one was stored for exactly this XML (else the reader matches for itself). */
  index?: CollectionIndex;
}

/**
 * findCollection finds `user`'s collection: kept version `version`, or the
 * current one (cratesync's or DJ-Tools' key, or its older one). The index
 * comes with it when one was stored for that very XML: a current object
 * another tool replaced has none. An index that fails its checks is reported
 * in `problems` and ignored. Throws UsageError when there is no such
 * collection. Reads indexes, never the XML.
 */
export async function findCollection(remote: Remote, user: string, o: { version?: string; problems: Problem[]; signal?: AbortSignal }): Promise<FoundCollection> {
  const versions = await listVersions(remote, user, o.signal);
  const withIndex = async (v: CollectionVersion): Promise<CollectionIndex | undefined> => {
    if (!v.index) return undefined;
    try {
      return await readIndex(remote, v);
    } catch (err) {
      o.problems.push({ path: v.index, message: describe(err) });
      return undefined;
    }
  };
  if (o.version !== undefined) {
    const v = versions.find((x) => x.version === o.version);
    if (!v) {
      const known = versions.map((x) => x.version).join(', ') || 'none';
      throw new UsageError(`${user} has no collection version ${o.version} (kept versions: ${known})`);
    }
    const index = await withIndex(v);
    return { user, version: v.version, key: v.key, gzipped: v.key.endsWith('.gz'), ...(index ? { index } : {}) };
  }
  for (const key of [currentKey(user), legacyKey(user)]) {
    const current = await remote.stat(key).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    if (!current) continue;
    const newest = [...versions].reverse().find((v) => v.index);
    const index = newest ? await withIndex(newest) : undefined;
    if (newest && index && (await isVersion(remote, current, index.xml))) return { user, version: newest.version, key, gzipped: false, index };
    return { user, key, gzipped: false };
  }
  throw new UsageError(`${user} has no collection on ${remote.url} (cratesync collection list shows who has)`);
}

/** True when object `o` holds the XML an index was made for (its `xml` field): same ETag, or same content MD5. */
async function isVersion(remote: Remote, o: RemoteObject, xml: CollectionIndex['xml']): Promise<boolean> {
  if (o.size !== xml.size) return false;
  if (o.etag && xml.etag) return o.etag === xml.etag;
  const md5 = parseEtag(o.etag).md5 ?? (await remote.md5?.(o.key));
  return md5 === xml.md5;
}

/** XML inflated past this is refused (a gzip bomb in a shared bucket must not fill the disk). */
export const MAX_XML_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * downloadCollection writes the XML of `found` to `file` (inflating a kept
 * version); returns its MD5. Throws what the remote throws, and
 * CratesyncError past MAX_XML_BYTES.
 */
export async function downloadCollection(remote: Remote, found: Pick<FoundCollection, 'key' | 'gzipped'>, file: string): Promise<string> {
  if (!found.gzipped) return (await remote.get(found.key, file)).md5;
  const tmp = `${file}.gz`;
  try {
    await remote.get(found.key, tmp);
    const h = createHash('md5');
    let n = 0;
    await pipeline(
      createReadStream(tmp),
      createGunzip(),
      async function* (src: AsyncIterable<Buffer>) {
        for await (const c of src) {
          n += c.length;
          if (n > MAX_XML_BYTES) throw new CratesyncError(`${found.key}: inflates past ${MAX_XML_BYTES / 1024 ** 3} GiB; refused`);
          h.update(c);
          yield c;
        }
      },
      createWriteStream(file),
    );
    return h.digest('hex');
  } finally {
    await rm(tmp, { force: true });
  }
}
