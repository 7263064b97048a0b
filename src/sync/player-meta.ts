/**
 * A media player's metadata of a song (rating, play count, its own tags)
 * published in the remote catalog beside the object it describes, even when
 * the file did not change: a put of the same key with the object as the
 * mirror knows it, plus `player`. An older cratesync reading it sees a re-put
 * of the same object (zod strips the field it does not know), which changes
 * nothing for it.
 */
import type { PlayerMeta } from '../core/tags.js';
import type { RemoteCatalog } from './catalog.js';
import type { CatalogPut } from './catalog-codec.js';
import { musicKey } from './layout.js';

/** What became of a song's metadata: see publishPlayerMetas. */
export type MetaResult = 'published' | 'unchanged' | 'unknown';

/**
 * publishPlayerMetas publishes `meta` of each item, the object at library
 * path `path` (NFC, '/'-separated), in `catalog`'s log at once, and answers
 * for each, in order: 'unknown' when the mirror holds no such object (not
 * on the remote yet: the song's upload comes first), 'unchanged' when the
 * mirror already holds exactly this meta, else 'published'. `settled(n)`
 * is called with the indexes of the items settled — unchanged ones first,
 * then those of each log once it is written, in the transaction that
 * records it — so that the caller notes them in the same commit. Moves no
 * file. Throws what the remote throws (the items of logs not written are
 * not settled, and nothing of them is recorded).
 */
export async function publishPlayerMetas(
  catalog: RemoteCatalog,
  items: ReadonlyArray<{ path: string; meta: PlayerMeta }>,
  o: { settled?: (indexes: readonly number[]) => void; signal?: AbortSignal; now?: number } = {},
): Promise<MetaResult[]> {
  const now = o.now ?? Date.now();
  const objects = catalog.mirror.getMany(items.map((i) => musicKey(i.path)));
  const results: MetaResult[] = [];
  const unchanged: number[] = [];
  const entries: Array<CatalogPut & { player: PlayerMeta }> = [];
  const indexOf = new Map<object, number>();
  items.forEach(({ meta }, n) => {
    const o = objects[n];
    if (!o) return void results.push('unknown');
    if (o.player && sameMeta(o.player, meta)) {
      unchanged.push(n);
      return void results.push('unchanged');
    }
    results.push('published');
    // The object as the mirror knows it, and `player`.
    const e: CatalogPut & { player: PlayerMeta } = { op: 'put', key: o.key, size: o.size, player: meta, at: now };
    if (o.md5) e.md5 = o.md5;
    if (o.etag) e.etag = o.etag;
    if (o.audioHash) e.audioHash = o.audioHash;
    if (o.tags) e.tags = o.tags;
    entries.push(e);
    indexOf.set(e, n);
  });
  if (unchanged.length > 0) o.settled?.(unchanged);
  if (entries.length > 0) {
    await catalog.publishPlayerMetas(entries, (chunk) => o.settled?.(chunk.map((e) => indexOf.get(e)!)), o.signal);
  }
  return results;
}

/** True when two metas say the same, whatever the order of their fields. */
function sameMeta(a: PlayerMeta, b: PlayerMeta): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}
