/**
 * Checking a collection XML rewritten for a reader (bench/collection.ts),
 * independently of cratesync's own Location code: the file is read as a
 * stream, every `<TRACK …>` tag found, and each Location decoded here
 * (XML entities, then percent-encoding, as Rekordbox writes them):
 * - a collection TRACK (it has a Location) must name the reader's own file
 *   of that track: `<root>/<rel>`, where `rel` is what the bench put there
 *   for its TrackID; a sample of them must be files on disk;
 * - a playlist entry keyed by Location (KeyType 1) must name a file under
 *   the reader's root, and be one on disk.
 * Counts are returned so that the caller can hold them against the input's
 * (the same scan of the XML before the rewrite).
 */
import { createReadStream, statSync } from 'node:fs';

export interface TrackTags {
  /** Collection TRACKs: tags with a Location attribute. */
  locations: number;
  /** Playlist entries whose Key is a Location (KeyType 1). */
  keys: number;
}

export interface RewriteCheck extends TrackTags {
  /** Collection TRACKs whose file was looked for on disk. */
  sampled: number;
  /** Location keys looked for on disk (all of them). */
  keysOnDisk: number;
  /** What is wrong, in words; empty when nothing. */
  problems: string[];
}

export interface RewriteExpect {
  /** The reader's library root(s) as the output may spell it: the configured path and its realpath. */
  roots: readonly string[];
  /** The library path ('/'-separated, NFC) the bench put at TrackID `id`, or undefined for an unknown ID. */
  rel: (id: number) => string | undefined;
  /** TrackIDs whose file is looked for on disk. */
  sample: ReadonlySet<number>;
}

const TRACK_TAG = /<TRACK\b[^>]*>/g;
const LOCATION = /\bLocation="([^"]*)"/;
const TRACK_ID = /\bTrackID="(\d+)"/;
const FILE_KEY = /\bKey="(file:[^"]*)"/;
const PREFIX = 'file://localhost/';
/** Examples of each kind of fault kept for the report. */
const EXAMPLES = 3;

/**
 * eachTrackTag calls `fn` with every `<TRACK …>` start tag of `file`, in
 * order, holding one chunk at a time. Attribute values never hold a raw `>`
 * (XML escapes it), so a tag ends at the first `>` after it.
 */
export async function eachTrackTag(file: string, fn: (tag: string) => void): Promise<void> {
  let carry = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1024 * 1024 })) {
    const s = carry + (chunk as string);
    const end = s.lastIndexOf('>') + 1;
    for (const m of s.slice(0, end).matchAll(TRACK_TAG)) fn(m[0]);
    carry = s.slice(end);
  }
}

/** countTrackTags counts the collection TRACKs and Location-keyed playlist entries of `file`. */
export async function countTrackTags(file: string): Promise<TrackTags> {
  const out: TrackTags = { locations: 0, keys: 0 };
  await eachTrackTag(file, (tag) => {
    if (LOCATION.test(tag)) out.locations++;
    else if (FILE_KEY.test(tag)) out.keys++;
  });
  return out;
}

/**
 * decodeLocationValue is the absolute POSIX path a raw (XML-escaped)
 * Location value names, or undefined when it is not a `file://localhost/`
 * URI or its percent-encoding is malformed.
 */
export function decodeLocationValue(raw: string): string | undefined {
  const v = raw.replace(/&(amp|apos|quot|lt|gt|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { amp: '&', apos: "'", quot: '"', lt: '<', gt: '>' };
    if (named[e.toLowerCase()] !== undefined) return named[e.toLowerCase()]!;
    return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
  });
  if (!v.startsWith(PREFIX)) return undefined;
  try {
    return `/${decodeURIComponent(v.slice(PREFIX.length))}`;
  } catch {
    return undefined;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** checkRewritten checks `file` against `e` (see the top); never throws for what it finds, only when it cannot read. */
export async function checkRewritten(file: string, e: RewriteExpect): Promise<RewriteCheck> {
  const out: RewriteCheck = { locations: 0, keys: 0, sampled: 0, keysOnDisk: 0, problems: [] };
  const faults = new Map<string, { n: number; examples: string[] }>();
  const fault = (kind: string, example: string) => {
    const f = faults.get(kind) ?? { n: 0, examples: [] };
    f.n++;
    if (f.examples.length < EXAMPLES) f.examples.push(example);
    faults.set(kind, f);
  };
  const roots = e.roots.map((r) => r.replace(/\/+$/, '').normalize('NFC'));
  const under = (path: string) => roots.find((r) => path.startsWith(`${r}/`));
  await eachTrackTag(file, (tag) => {
    const loc = LOCATION.exec(tag)?.[1];
    if (loc !== undefined) {
      out.locations++;
      const id = Number(TRACK_ID.exec(tag)?.[1]);
      const rel = e.rel(id);
      const path = decodeLocationValue(loc)?.normalize('NFC');
      if (rel === undefined) fault('collection TRACKs with an unknown TrackID', `TrackID ${id}`);
      else if (path === undefined) fault('Locations that do not decode to a local path', `TrackID ${id}: ${JSON.stringify(loc)}`);
      else if (!roots.some((r) => path === `${r}/${rel}`)) fault("Locations other than the reader's file of the track", `TrackID ${id}: ${path}`);
      else if (e.sample.has(id)) {
        out.sampled++;
        if (!isFile(path)) fault('sampled Locations that are no file on disk', `TrackID ${id}: ${path}`);
      }
      return;
    }
    const key = FILE_KEY.exec(tag)?.[1];
    if (key === undefined) return;
    out.keys++;
    const path = decodeLocationValue(key)?.normalize('NFC');
    if (path === undefined) fault('playlist keys that do not decode to a local path', JSON.stringify(key));
    else if (!under(path)) fault("playlist keys outside the reader's library", path);
    else if (!isFile(path)) fault('playlist keys that are no file on disk', path);
    else out.keysOnDisk++;
  });
  const wanted = e.sample.size;
  if (out.sampled < wanted && !faults.size) fault('sampled TrackIDs not found in the output', `${out.sampled} of ${wanted} found`);
  for (const [kind, f] of faults) out.problems.push(`${f.n} ${kind} (${f.examples.join('; ')})`);
  return out;
}
