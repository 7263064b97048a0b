/**
 * Opening another user's collection for reading: its index as stored, or,
 * for a collection that has none (written by DJ-Tools, or replaced by another
 * tool since), an index matched here from the XML against what the reader's
 * mirror knows (no content hashes then: the reader cannot read the pusher's
 * files).
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Remote } from '../remote/remote.js';
import type { Problem } from '../core/problem.js';
import type { RemoteMirror } from '../state/remote-mirror.js';
import { readCollection } from './rekordbox/collection-reader.js';
import { INDEX_KIND, matchTracks, type CollectionIndex } from './collection-index.js';
import { downloadCollection, findCollection, type FoundCollection } from './collection-store.js';
import { knownPaths } from './crew-files.js';
import { readUser } from './user-registry.js';

export interface OpenedCollection {
  found: FoundCollection;
  index: CollectionIndex;
  /** True when no stored index fitted and the index was matched here. */
  matchedHere: boolean;
  /** The XML, when it had to be downloaded (in `tmpDir`; the caller removes the folder). */
  xmlFile?: string;
}

/**
 * openCollection finds `user`'s collection (or kept version `version`) and
 * its index; see the file's comment. `mirror` must be current (the catalog
 * refreshed). Throws UsageError when there is no such collection, XmlError
 * when an XML without index is malformed.
 */
export async function openCollection(
  remote: Remote,
  mirror: RemoteMirror,
  user: string,
  o: { version?: string; tmpDir: string; problems: Problem[]; signal?: AbortSignal },
): Promise<OpenedCollection> {
  const found = await findCollection(remote, user, o);
  if (found.index) return { found, index: found.index, matchedHere: false };
  const xmlFile = join(o.tmpDir, `${randomBytes(6).toString('hex')}.xml`);
  const md5 = await downloadCollection(remote, found, xmlFile);
  const summary = await readCollection(createReadStream(xmlFile, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>, found.key);
  // Where the user's libraries are, as the users registry says: a tie between roots goes to one of them.
  const entry = await readUser(remote, user, o.problems).catch(() => undefined);
  const { tracks, roots } = await matchTracks(summary, knownPaths(mirror), undefined, entry?.machines.map((m) => m.root) ?? []);
  const index: CollectionIndex = {
    v: 1,
    kind: INDEX_KIND,
    user,
    writer: '(unknown)',
    at: Date.now(),
    xml: { md5, size: 0 },
    roots,
    tracks,
    playlists: summary.playlists,
  };
  return { found, index, matchedHere: true, xmlFile };
}
