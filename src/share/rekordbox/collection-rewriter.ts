/**
 * Rewrites the Locations of a Rekordbox collection XML as it streams through,
 * touching nothing else: every byte outside the replaced attribute values is
 * copied as read (attribute order, whitespace, TEMPO, POSITION_MARK, the
 * playlist tree, the XML declaration), so Rekordbox sees the collection as
 * exported, only pointing at the reader's files.
 */
import { once } from 'node:events';
import { XmlScanner, type XmlTag } from '../../core/xml-scanner.js';
import { decodeLocation, encodeLocation, LocationError, trackLocation } from './location.js';

/** A TRACK as the map sees it. Its Location is decoded only when asked for: most maps go by id alone. */
export interface TrackRef {
  readonly id: string;
  /** The path its Location names (decodeLocation), when it names one. */
  readonly location: string | undefined;
  /** Why its Location names no path, when it does not. */
  readonly error: string | undefined;
}

/** Where each track goes. */
export interface RewriteMap {
  /** The new absolute path ('/'-separated, any OS form) for the track, or undefined to refuse it: then Location=""
   *  is written (the refused value never reaches the output). */
  track(t: TrackRef): string | undefined;
}

/** A TrackRef that decodes its Location on first use. */
class LazyTrack implements TrackRef {
  private decoded: { location: string } | { error: string } | undefined;
  constructor(
    readonly id: string,
    private readonly raw: string | undefined,
  ) {}
  private get d(): { location: string } | { error: string } {
    return (this.decoded ??= trackLocation(this.raw));
  }
  get location(): string | undefined {
    const d = this.d;
    return 'location' in d ? d.location : undefined;
  }
  get error(): string | undefined {
    const d = this.d;
    return 'error' in d ? d.error : undefined;
  }
}

/** Counts of one rewrite. */
export interface RewriteStats {
  /** TRACKs of the COLLECTION. */
  tracks: number;
  /** Of them, Locations replaced by a path from the map. */
  rewritten: number;
  /** Of them, Locations the map refused (written as ""). */
  refused: number;
  /** Keys of KeyType 1 playlist entries replaced (those naming no rewritten track are written as ""). */
  playlistKeys: number;
  bytesIn: number;
  bytesOut: number;
}

/** One replaced value: absolute [start, end) of the raw value in the input, its new text, and that text's UTF-8 length. */
interface Edit {
  start: number;
  end: number;
  value: string;
  bytes: number;
}

const NEEDS_ESCAPE = /[&"<>']/;

/** Escapes a value for an attribute the way Rekordbox writes it. */
function xmlEscape(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[&"<>']/g, (c) => (c === '&' ? '&amp;' : c === '"' ? '&quot;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&apos;'));
}

/**
 * Streams `input` to `output`, replacing only the raw values of TRACK Location attributes (in COLLECTION) and of
 * Key attributes of TRACKs in KeyType="1" playlists (mapped like the track of the same Location), each written as
 * encodeLocation(newPath) XML-escaped the way Rekordbox does (& → &amp;, " → &quot;, < &lt;, > &gt;, ' → &apos;).
 * A Key naming no track of the COLLECTION (or a refused one) is written as "". Every other byte is copied as is.
 * Bounded memory: the input's chunks plus one map entry per track. Waits for `output` to drain; does not end it.
 * Throws XmlError (or what the map or `output` throw); on error the output is incomplete (the caller writes to
 * a temp file and renames).
 */
export async function rewriteCollection(
  input: AsyncIterable<Buffer>,
  output: NodeJS.WritableStream,
  map: RewriteMap,
  source: string,
): Promise<RewriteStats> {
  const stats: RewriteStats = { tracks: 0, rewritten: 0, refused: 0, playlistKeys: 0, bytesIn: 0, bytesOut: 0 };
  /** Each Location (raw, decoded) and its new raw value ('' when refused), for KeyType 1 keys. Indexed only when
   *  the first such key comes: most collections have none. */
  const moved: Array<{ raw: string; value: string }> = [];
  let byRaw: Map<string, string> | undefined;
  let byPath: Map<string, string> | undefined;
  /** Replacements not yet written: absolute [start, end) of a raw value, its new text and that text's UTF-8 length. */
  const edits: Edit[] = [];
  const path: string[] = [];
  let keyType1 = false;
  const keyTypes: boolean[] = [];

  const lookUpKey = (raw: string): string => {
    if (byRaw === undefined) {
      byRaw = new Map();
      for (const m of moved) if (!byRaw.has(m.raw)) byRaw.set(m.raw, m.value);
    }
    const hit = byRaw.get(raw);
    if (hit !== undefined) return hit;
    // Spelled otherwise than its Location (NFD for NFC, other hex case): compare decoded paths in NFC.
    let key: string;
    try {
      key = decodeLocation(raw).normalize('NFC');
    } catch (err) {
      if (!(err instanceof LocationError)) throw err;
      return '';
    }
    if (byPath === undefined) {
      byPath = new Map();
      for (const m of moved) {
        const d = trackLocation(m.raw);
        const k = 'location' in d ? d.location.normalize('NFC') : undefined;
        if (k !== undefined && !byPath.has(k)) byPath.set(k, m.value);
      }
    }
    return byPath.get(key) ?? '';
  };

  const replace = (tag: XmlTag, attr: string, value: string) => {
    const span = tag.span(attr);
    if (span === undefined) return;
    const text = xmlEscape(value);
    edits.push({ start: span[0], end: span[1], value: text, bytes: Buffer.byteLength(text) });
  };

  const open = (tag: XmlTag) => {
    const parent = path[path.length - 1];
    const depth = path.length;
    path.push(tag.name);
    if (tag.name === 'NODE') {
      keyTypes.push(keyType1);
      keyType1 = tag.attr('Type') === '1' && tag.attr('KeyType') === '1';
    }
    if (tag.name !== 'TRACK') return;
    if (parent === 'COLLECTION' && depth === 2) {
      stats.tracks++;
      const raw = tag.attr('Location');
      const to = map.track(new LazyTrack(tag.attr('TrackID') ?? '', raw));
      const value = to === undefined ? '' : encodeLocation(to);
      if (to === undefined) stats.refused++;
      else stats.rewritten++;
      if (raw !== undefined) {
        moved.push({ raw, value });
        replace(tag, 'Location', value);
      }
    } else if (parent === 'NODE' && keyType1) {
      const raw = tag.attr('Key');
      if (raw === undefined) return;
      stats.playlistKeys++;
      replace(tag, 'Key', lookUpKey(raw));
    }
  };

  const close = (name: string) => {
    path.pop();
    if (name === 'NODE') keyType1 = keyTypes.pop() ?? false;
  };

  const scanner = new XmlScanner({ open, close }, source);
  /** Input not yet written: buffers in order, the first starting at absolute offset `flushed`. */
  let pending: Buffer[] = [];
  let flushed = 0;

  /**
   * Writes the input up to absolute offset `upTo`, with the edits that lie
   * before it, assembled in one buffer: no object per piece (a collection
   * has a piece or two per track).
   */
  const emit = async (upTo: number) => {
    if (upTo <= flushed) return;
    let e = 0;
    let size = upTo - flushed;
    for (; e < edits.length; e++) {
      const edit = edits[e] as Edit;
      if (edit.end > upTo) break;
      size += edit.bytes - (edit.end - edit.start);
    }
    const out = Buffer.allocUnsafe(size);
    let pos = 0;
    let k = 0; // pending[k] starts at absolute `start`
    let start = flushed;
    /** Copies input [from, to) to out; from never goes back. */
    const copy = (from: number, to: number) => {
      while (from < to) {
        let b = pending[k] as Buffer;
        while (from >= start + b.length) {
          start += b.length;
          b = pending[++k] as Buffer;
        }
        const end = Math.min(to, start + b.length);
        pos += b.copy(out, pos, from - start, end - start);
        from = end;
      }
    };
    let at = flushed;
    for (let i = 0; i < e; i++) {
      const edit = edits[i] as Edit;
      copy(at, edit.start);
      pos += out.write(edit.value, pos);
      at = edit.end;
    }
    edits.splice(0, e);
    copy(at, upTo);
    // Keep what lies after upTo.
    while (k < pending.length && start + (pending[k] as Buffer).length <= upTo) start += (pending[k++] as Buffer).length;
    pending = pending.slice(k);
    if (pending.length > 0) pending[0] = (pending[0] as Buffer).subarray(upTo - start);
    flushed = upTo;
    stats.bytesOut += out.length;
    if (!output.write(out)) await once(output as NodeJS.EventEmitter, 'drain');
  };

  for await (const chunk of input) {
    stats.bytesIn += chunk.length;
    pending.push(chunk);
    scanner.write(chunk);
    await emit(scanner.settled);
  }
  scanner.end();
  await emit(stats.bytesIn);
  return stats;
}
