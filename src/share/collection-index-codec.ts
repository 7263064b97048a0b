/**
 * Collection indexes as stored: gzipped JSON, written by any crew member, so
 * read as untrusted input: bounded when inflated, every field checked (zod)
 * before use, and every path checked to stay below `music/` (no `..`, no
 * absolute path, no NUL or backslash), since a reader turns them into paths
 * of its own library.
 */
import { createGunzip, createGzip, gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { CratesyncError, describe } from '../errors.js';
import { fieldPath } from '../core/field-path.js';
import { INDEX_KIND, type CollectionIndex, type IndexedTrack } from './collection-index.js';

/** Inflated size past which an index is refused: far above a 50,000-track collection's, far below a bomb's. */
export const MAX_INDEX_BYTES = 256 * 1024 * 1024;
export const MAX_TRACKS = 1_000_000;
const MAX_NODES = 200_000;
const MAX_DEPTH = 64;

/**
 * safeLibraryPath says why `p`, read from a shared bucket, cannot be a path
 * in a library, or undefined when it can: relative, '/'-separated, no empty,
 * '.' or '..' component, no NUL, no backslash.
 */
export function unsafeLibraryPath(p: string): string | undefined {
  if (p.length === 0 || p.length > 4096) return 'empty or too long';
  if (p.includes('\0') || p.includes('\\')) return 'holds a NUL or a backslash';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'is absolute';
  if (p.split('/').some((c) => c === '' || c === '.' || c === '..')) return 'has an empty, "." or ".." component';
  return undefined;
}

/** The index's zod schemas, loaded on first use (see collection-index-schema.ts). */
let schemas: Promise<ReturnType<(typeof import('./collection-index-schema.js'))['makeIndexSchemas']>> | undefined;
const loadSchemas = () =>
  (schemas ??= import('./collection-index-schema.js').then((m) => m.makeIndexSchemas({ kind: INDEX_KIND, maxTracks: MAX_TRACKS, unsafeLibraryPath })));

/** Nodes and depth of a playlist tree, counted without recursion (a forged tree may be deeper than the stack). */
function treeShape(root: unknown): { nodes: number; depth: number } {
  let nodes = 0;
  let depth = 0;
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [n, d] = stack.pop() as [unknown, number];
    nodes++;
    depth = Math.max(depth, d);
    if (nodes > MAX_NODES || depth > MAX_DEPTH) break;
    const children = (n as { children?: unknown } | null)?.children;
    if (Array.isArray(children)) for (const c of children) stack.push([c, d + 1]);
  }
  return { nodes, depth };
}

/** How much of an inflated index decodeIndexXml reads: its head, where `xml` stands (encodeIndex writes it before the tracks). */
const HEAD_BYTES = 64 * 1024;

/**
 * decodeIndexXml reads only the `xml` field of an index (which XML it was
 * made for) from the head of the inflated document, without inflating or
 * parsing the rest: what a push needs to know whether the collection
 * changed, at a fraction of a large index's memory. Returns undefined when
 * the head does not hold a valid one (the caller then treats the index as
 * not this XML's).
 */
export async function decodeIndexXml(buf: Buffer): Promise<CollectionIndex['xml'] | undefined> {
  const head = await new Promise<string>((resolve) => {
    const z = createGunzip();
    const parts: Buffer[] = [];
    let n = 0;
    const done = () => {
      z.destroy();
      resolve(Buffer.concat(parts).toString('utf8'));
    };
    z.on('data', (c: Buffer) => {
      parts.push(c);
      n += c.length;
      if (n >= HEAD_BYTES) done();
    });
    z.on('end', done);
    z.on('error', done);
    z.end(buf);
  });
  const m = /"xml":(\{[^{}]{0,512}\})/.exec(head);
  if (!m?.[1]) return undefined;
  const { xmlSchema } = await loadSchemas();
  try {
    const r = xmlSchema.safeParse(JSON.parse(m[1]));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Tracks turned into JSON at a time while an index is gzipped. */
const PAGE = 1000;

/**
 * encodeIndex gzips an index, its tracks a page at a time: the JSON of a
 * large collection's index as one string would be a large share of a push's
 * memory. The fields come in the order decodeIndexXml relies on (`xml`
 * before the tracks).
 */
export async function encodeIndex(doc: CollectionIndex): Promise<Buffer> {
  const { tracks, playlists, ...head } = doc;
  const z = createGzip();
  const out: Buffer[] = [];
  z.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    z.on('end', resolve);
    z.on('error', reject);
  });
  const put = async (s: string) => {
    if (!z.write(s)) await new Promise((r) => z.once('drain', r));
  };
  await put(`${JSON.stringify(head).slice(0, -1)},"tracks":[`);
  for (let i = 0; i < tracks.length; i += PAGE) {
    await put((i > 0 ? ',' : '') + tracks.slice(i, i + PAGE).map((t) => JSON.stringify(t)).join(','));
  }
  await put(`],"playlists":${JSON.stringify(playlists)}}`);
  z.end();
  await done;
  return Buffer.concat(out);
}

/**
 * decodeIndex inflates and checks an index read from `key`; throws
 * CratesyncError naming the key and the first field out of shape.
 */
export async function decodeIndex(buf: Buffer, key: string): Promise<CollectionIndex> {
  let doc: unknown;
  try {
    const json = (await promisify(gunzip)(buf, { maxOutputLength: MAX_INDEX_BYTES })).toString('utf8');
    doc = JSON.parse(json);
  } catch (err) {
    const big = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new CratesyncError(`${key}: unreadable collection index (${big ? `inflates past ${MAX_INDEX_BYTES / 1048576} MiB` : describe(err)}); ignored`);
  }
  const shape = treeShape((doc as { playlists?: unknown } | null)?.playlists);
  if (shape.nodes > MAX_NODES || shape.depth > MAX_DEPTH) {
    throw new CratesyncError(`${key}: collection index: playlist tree past ${MAX_NODES} nodes or ${MAX_DEPTH} levels; ignored`);
  }
  const { indexSchema, trackSchema } = await loadSchemas();
  const bad = (issue: { path: PropertyKey[]; message: string } | undefined, at: Array<string | number> = []): never => {
    throw new CratesyncError(`${key}: collection index: ${fieldPath([...at, ...(issue?.path ?? [])])}: ${issue?.message ?? 'malformed'}; ignored`);
  };
  const r = indexSchema.safeParse(doc);
  if (!r.success) return bad(r.error.issues[0]);
  // Each track is checked as it stands and kept as parsed (strict: nothing but the known fields).
  const tracks = (doc as { tracks: unknown[] }).tracks;
  for (let i = 0; i < tracks.length; i++) {
    const t = trackSchema.safeParse(tracks[i]);
    if (!t.success) bad(t.error.issues[0], ['tracks', i]);
  }
  return { ...(r.data as Omit<CollectionIndex, 'tracks'>), tracks: tracks as IndexedTrack[] };
}
