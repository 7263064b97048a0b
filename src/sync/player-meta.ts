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

/**
 * recordPlayerMeta records `meta` for the object of library path `path`
 * (NFC, '/'-separated) in `catalog`: 'unknown' when the mirror holds no such
 * object (not on the remote yet: the song's upload will come first),
 * 'unchanged' when the mirror already holds exactly this meta, else
 * 'recorded' (the mirror learns it at once; the log gets it with the
 * catalog's next publish). Moves no file and sends nothing itself.
 */
export function recordPlayerMeta(catalog: RemoteCatalog, path: string, meta: PlayerMeta, now: number = Date.now()): 'recorded' | 'unchanged' | 'unknown' {
  return recordPlayerMetas(catalog, [{ path, meta }], now)[0]!;
}

/**
 * recordPlayerMetas is recordPlayerMeta for many songs at once, each
 * answered in order. The mirror is read for all of them before anything is
 * recorded: a read flushes what was recorded before it, so reads and
 * records taken in turn would write the mirror one row at a time.
 */
export function recordPlayerMetas(catalog: RemoteCatalog, items: ReadonlyArray<{ path: string; meta: PlayerMeta }>, now: number = Date.now()): Array<'recorded' | 'unchanged' | 'unknown'> {
  const objects = items.map((i) => catalog.mirror.get(musicKey(i.path)));
  return items.map(({ path, meta }, n) => {
    const o = objects[n];
    if (!o) return 'unknown';
    if (o.player && sameMeta(o.player, meta)) return 'unchanged';
    const e: CatalogPut = { op: 'put', key: musicKey(path), size: o.size, player: meta, at: now };
    if (o.md5) e.md5 = o.md5;
    if (o.etag) e.etag = o.etag;
    if (o.audioHash) e.audioHash = o.audioHash;
    if (o.tags) e.tags = o.tags;
    catalog.record(e);
    return 'recorded';
  });
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
