/**
 * What the remote's `music/` holds, for planning: from a full listing, or from
 * the local mirror when that is known to be current — complete for the
 * remote's present generation marker, and rebuilt by a full listing less than
 * `maxAgeMs` ago (changes by other tools are caught then).
 */
import type { Remote } from '../remote/remote.js';
import type { RemoteMirror } from '../state/remote-mirror.js';
import type { Problem } from '../library/walk.js';
import { foldMusic, listMusic, type ListedObject } from './remote-listing.js';
import { readGeneration } from './generation.js';

/** Default age after which a full listing is made even when the marker is unchanged. */
export const FULL_LISTING_EVERY_MS = 60 * 60 * 1000;

export interface RemoteView {
  objects: Map<string, ListedObject>;
  /** The generation marker read before the objects were (the mirror is complete for it once adopted). */
  generation?: string;
  /** When the full listing behind this view was made. */
  listedAt: number;
  /** True when this run listed the remote; false when the mirror served. */
  listed: boolean;
}

/**
 * remoteView reads the marker first, then lists (refreshing the mirror) unless
 * the mirror is current. Reading the marker before listing matters: a writer
 * busy during the listing rewrites the marker when it ends, so the next run
 * does not trust a listing that missed its last changes.
 */
export async function remoteView(
  remote: Remote,
  mirror: RemoteMirror,
  o: { full: boolean; maxAgeMs?: number; problems: Problem[]; signal?: AbortSignal; now?: number },
): Promise<RemoteView> {
  const now = o.now ?? Date.now();
  const generation = await readGeneration(remote);
  const st = mirror.state();
  const current =
    !o.full && generation !== undefined && st.generation === generation && st.listedAt !== undefined && now - st.listedAt < (o.maxAgeMs ?? FULL_LISTING_EVERY_MS);
  if (current) {
    return { objects: foldMusic(mirror.objects(), o.problems), generation, listedAt: st.listedAt ?? now, listed: false };
  }
  const listing = await listMusic(remote, o.signal);
  mirror.replaceAll(listing);
  mirror.setState({ listedAt: now }); // not complete for any marker until the run adopts one
  return { objects: foldMusic(listing, o.problems), ...(generation ? { generation } : {}), listedAt: now, listed: true };
}
