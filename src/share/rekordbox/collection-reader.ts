/**
 * Reads what cratesync needs of a Rekordbox collection XML: its tracks (id,
 * Location, size, tags) and its playlist tree, in one streaming pass.
 */
import { XmlScanner, type XmlTag } from '../../core/xml-scanner.js';
import { UsageError } from '../../errors.js';
import { decodeLocation, trackLocation } from './location.js';

/** One TRACK of the COLLECTION, with the fields cratesync uses. */
export interface CollectionTrack {
  id: string;
  /** The path its Location names (decodeLocation), when that could be decoded. */
  location?: string;
  /** Why the Location was refused (LocationError message), when it was. */
  locationError?: string;
  size?: number;
  name?: string;
  artist?: string;
  /** Seconds. */
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
  /** The ROOT folder (an empty one when the XML has no PLAYLISTS). */
  playlists: PlaylistNode;
  /** PRODUCT Name and Version, e.g. 'rekordbox 6.8.5'. */
  product?: string;
  /** One line each: tracks without TrackID, duplicate ids, playlist entries naming no track. */
  problems: string[];
}

type Folder = PlaylistNode & { type: 'folder' };
type Playlist = PlaylistNode & { type: 'playlist' };

function number(v: string | undefined): number | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Streams `input` once; memory grows with the number of tracks (these fields), not with the XML's size. Throws XmlError. */
export async function readCollection(input: AsyncIterable<Buffer>, source: string): Promise<CollectionSummary> {
  const tracks: CollectionTrack[] = [];
  const ids = new Set<string>();
  const problems: string[] = [];
  let product: string | undefined;
  let root: Folder | undefined;
  /** Open elements, by name, and the folder/playlist each NODE opened (undefined for others). */
  const path: string[] = [];
  const nodes: Array<Folder | Playlist | undefined> = [];
  /** Keys of each playlist as written, resolved at the end (KeyType 1 needs every Location). */
  const keys = new Map<Playlist, string[]>();

  const open = (tag: XmlTag) => {
    const parent = path[path.length - 1];
    const depth = path.length;
    path.push(tag.name);
    nodes.push(undefined);
    if (depth === 1 && tag.name === 'PRODUCT') {
      product = [tag.attr('Name'), tag.attr('Version')].filter((s) => s).join(' ') || undefined;
    } else if (tag.name === 'TRACK' && parent === 'COLLECTION' && depth === 2) {
      readTrack(tag);
    } else if (tag.name === 'NODE' && (parent === 'PLAYLISTS' || parent === 'NODE')) {
      const container = parent === 'NODE' ? nodes[nodes.length - 2] : undefined;
      const name = tag.attr('Name') ?? '';
      const node: Folder | Playlist =
        tag.attr('Type') === '1'
          ? { type: 'playlist', name, keyType: tag.attr('KeyType') === '1' ? 1 : 0, tracks: [] }
          : { type: 'folder', name, children: [] };
      nodes[nodes.length - 1] = node;
      if (node.type === 'playlist') keys.set(node, []);
      if (container?.type === 'folder') container.children.push(node);
      else if (parent === 'PLAYLISTS' && root === undefined && node.type === 'folder') root = node;
      else problems.push(`line ${tag.line}: a NODE outside the ROOT folder or inside a playlist (ignored)`);
    } else if (tag.name === 'TRACK' && parent === 'NODE') {
      const playlist = nodes[nodes.length - 2];
      const key = tag.attr('Key');
      if (playlist?.type === 'playlist' && key !== undefined) keys.get(playlist)?.push(key);
    }
  };

  const readTrack = (tag: XmlTag) => {
    const id = tag.attr('TrackID');
    if (id === undefined || id === '') {
      problems.push(`line ${tag.line}: a TRACK without TrackID (ignored)`);
      return;
    }
    if (ids.has(id)) {
      problems.push(`line ${tag.line}: TrackID ${id} appears twice (the second is ignored)`);
      return;
    }
    ids.add(id);
    const t: CollectionTrack = { id };
    const loc = trackLocation(tag.attr('Location'));
    if ('location' in loc) t.location = loc.location;
    else t.locationError = loc.error;
    const size = number(tag.attr('Size'));
    if (size !== undefined) t.size = size;
    const totalTime = number(tag.attr('TotalTime'));
    if (totalTime !== undefined) t.totalTime = totalTime;
    const name = tag.attr('Name');
    if (name) t.name = name;
    const artist = tag.attr('Artist');
    if (artist) t.artist = artist;
    tracks.push(t);
  };

  const scanner = new XmlScanner(
    {
      open,
      close: () => {
        path.pop();
        nodes.pop();
      },
    },
    source,
  );
  for await (const chunk of input) scanner.write(chunk);
  scanner.end();

  const byLocation = new Map<string, string>();
  for (const t of tracks) if (t.location !== undefined && !byLocation.has(t.location.normalize('NFC'))) byLocation.set(t.location.normalize('NFC'), t.id);
  const playlists: Folder = root ?? { type: 'folder', name: 'ROOT', children: [] };
  for (const { path: at, node } of walk(playlists, '')) {
    const written = keys.get(node) ?? [];
    let dropped = 0;
    for (const key of written) {
      let id: string | undefined = key;
      if (node.keyType === 1) {
        try {
          id = byLocation.get(decodeLocation(key).normalize('NFC'));
        } catch {
          id = undefined;
        }
      } else if (!ids.has(key)) {
        id = undefined;
      }
      if (id === undefined) dropped++;
      else node.tracks.push(id);
    }
    if (dropped > 0) problems.push(`playlist ${at}: ${dropped} of ${written.length} entries name no track of the collection (left out)`);
  }
  return { tracks, playlists, ...(product !== undefined ? { product } : {}), problems };
}

/** Every playlist below `node`, depth first, with its path from under ROOT ('Sets/Peak Time'). */
function* walk(node: PlaylistNode, at: string): Generator<{ path: string; node: Playlist }> {
  if (node.type === 'playlist') {
    yield { path: at, node };
    return;
  }
  for (const child of node.children) yield* walk(child, at === '' ? child.name : `${at}/${child.name}`);
}

/** Every node below `node` (not itself), with its path. */
function* all(node: Folder, at: string): Generator<{ path: string; node: PlaylistNode }> {
  for (const child of node.children) {
    const p = at === '' ? child.name : `${at}/${child.name}`;
    yield { path: p, node: child };
    if (child.type === 'folder') yield* all(child, p);
  }
}

/**
 * Finds the playlists `spec` names: a path from under ROOT ('Sets/Peak Time'), else a name at any depth
 * (compared in NFC, exactly). A folder means every playlist below it. Returns [path, node] pairs in tree order.
 * Throws UsageError when nothing matches, when a folder holds no playlist, or when a name matches nodes on
 * several paths (the message lists them, to be given as a path instead).
 */
export function findPlaylists(root: PlaylistNode, spec: string): Array<{ path: string; node: PlaylistNode & { type: 'playlist' } }> {
  if (root.type === 'playlist') return spec.normalize('NFC') === root.name.normalize('NFC') ? [{ path: root.name, node: root }] : [];
  const want = spec.normalize('NFC').replace(/^\/+|\/+$/g, '');
  const nodes = [...all(root, '')];
  let hits = nodes.filter((n) => n.path.normalize('NFC') === want);
  if (hits.length === 0) {
    hits = nodes.filter((n) => n.node.name.normalize('NFC') === want);
    const paths = [...new Set(hits.map((h) => h.path))];
    if (paths.length > 1) throw new UsageError(`playlist "${spec}" is ambiguous: it names ${paths.map((p) => `"${p}"`).join(', ')}; give its path`);
  }
  if (hits.length === 0) throw new UsageError(`no playlist or folder "${spec}" in the collection`);
  const out = hits.flatMap((h) => [...walk(h.node, h.path)]);
  if (out.length === 0) throw new UsageError(`folder "${spec}" holds no playlist`);
  return out;
}
