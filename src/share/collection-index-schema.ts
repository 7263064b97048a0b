/**
 * The shapes of a collection index (collection-index-codec.ts), checked with
 * zod. Loaded only when an index is read: the commands that never read one
 * do not pay for zod at start-up.
 */
import { z } from 'zod';
import type { PlaylistNode } from './rekordbox/collection-reader.js';

/** What the shapes depend on, given by the codec (which loads this module lazily, not the other way). */
export interface IndexFacts {
  kind: string;
  maxTracks: number;
  unsafeLibraryPath(p: string): string | undefined;
}

/** makeIndexSchemas builds the validators of an index, of one of its tracks, and of its `xml` field. */
export function makeIndexSchemas({ kind: INDEX_KIND, maxTracks: MAX_TRACKS, unsafeLibraryPath }: IndexFacts) {
  const text = (max: number) => z.string().max(max);
  const libraryPath = z.string().superRefine((p, ctx) => {
    const why = unsafeLibraryPath(p);
    if (why) ctx.addIssue({ code: 'custom', message: `path ${JSON.stringify(p.slice(0, 80))} ${why}` });
  });

  const xmlSchema = z.strictObject({ md5: z.string().regex(/^[0-9a-f]{32}$/), size: z.int().nonnegative(), etag: text(128).optional() });

  const trackSchema = z.strictObject({
    id: text(64),
    path: libraryPath.optional(),
    by: z.enum(['root', 'name', 'hash']).optional(),
    location: text(4096).optional(),
    why: text(512).optional(),
    size: z.int().nonnegative().optional(),
    name: text(1024).optional(),
    artist: text(1024).optional(),
    time: z.number().nonnegative().optional(),
  });

  const nodeSchema: z.ZodType<PlaylistNode> = z.lazy(() =>
    z.discriminatedUnion('type', [
      z.strictObject({ type: z.literal('folder'), name: text(1024), children: z.array(nodeSchema) }),
      z.strictObject({ type: z.literal('playlist'), name: text(1024), keyType: z.union([z.literal(0), z.literal(1)]), tracks: z.array(text(64)) }),
    ]),
  ) as z.ZodType<PlaylistNode>;

  const indexSchema = z.strictObject({
    v: z.literal(1),
    kind: z.literal(INDEX_KIND),
    user: text(64),
    writer: text(256),
    at: z.number().nonnegative(),
    xml: xmlSchema,
    roots: z.array(text(4096)).max(1000),
    // Checked one by one (decodeIndex): a parse of the whole array would copy every track.
    tracks: z.array(z.unknown()).max(MAX_TRACKS),
    playlists: nodeSchema,
  });
  return { indexSchema, trackSchema, xmlSchema };
}
