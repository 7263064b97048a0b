/**
 * Rewrites the Locations of a Rekordbox collection XML in a stream (stub: interface first).
 */

/** Where each track goes. */
export interface RewriteMap {
  /** The new absolute path ('/'-separated, any OS form) for the track, or undefined to refuse it: then Location=""
   *  is written (the refused value never reaches the output). `location`/`error` as decoded by decodeLocation. */
  track(t: { id: string; location?: string; error?: string }): string | undefined;
}

/** Counts of one rewrite. */
export interface RewriteStats {
  tracks: number;
  rewritten: number;
  refused: number;
  playlistKeys: number;
  bytesIn: number;
  bytesOut: number;
}

/** Streams `input` to `output`, replacing only Location / KeyType 1 Key values. Throws XmlError. */
export async function rewriteCollection(
  input: AsyncIterable<Buffer>,
  output: NodeJS.WritableStream,
  map: RewriteMap,
  source: string,
): Promise<RewriteStats> {
  void input;
  void output;
  void map;
  void source;
  throw new Error('not implemented');
}
