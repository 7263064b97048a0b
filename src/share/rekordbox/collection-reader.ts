/**
 * Reads the tracks and playlist tree of a Rekordbox collection XML (stub: interface first).
 */
import { UsageError } from '../../errors.js';

/** One TRACK of the COLLECTION, with the fields cratesync uses. */
export interface CollectionTrack {
  id: string;
  /** Decoded path (decodeLocation). */
  location?: string;
  /** Why the Location was refused, when it was. */
  locationError?: string;
  size?: number;
  name?: string;
  artist?: string;
  totalTime?: number;
}

/** A node of the playlist tree. */
export type PlaylistNode =
  | { type: 'folder'; name: string; children: PlaylistNode[] }
  | {
      type: 'playlist';
      name: string;
      keyType: 0 | 1;
      /** TrackIDs; KeyType 1 entries are resolved to TrackIDs by Location; unknown ones dropped and counted. */
      tracks: string[];
    };

/** What readCollection returns. */
export interface CollectionSummary {
  tracks: CollectionTrack[];
  /** The ROOT folder. */
  playlists: PlaylistNode;
  product?: string;
  problems: string[];
}

/** Streams `input` once; memory grows with the number of tracks (these fields), not with the XML's size. Throws XmlError. */
export async function readCollection(input: AsyncIterable<Buffer>, source: string): Promise<CollectionSummary> {
  void input;
  void source;
  return { tracks: [], playlists: { type: 'folder', name: 'ROOT', children: [] }, problems: [] };
}

/** Finds the playlists `spec` names. Throws UsageError when none. */
export function findPlaylists(root: PlaylistNode, spec: string): Array<{ path: string; node: PlaylistNode & { type: 'playlist' } }> {
  void root;
  throw new UsageError(`no playlist ${spec}`);
}
