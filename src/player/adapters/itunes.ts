/**
 * iTunes and Music: `iTunes Library.xml` (`iTunes Music Library.xml` before
 * iTunes 9, Music's `Library.xml`), an Apple property list:
 * `<plist><dict>` whose `Tracks` is a dict of track dicts by Track ID and
 * whose `Playlists` is an array of playlist dicts listing `Playlist Items`
 * by Track ID. Every file starts with the plist DOCTYPE, which the scanner
 * skips (never an internal subset, never an entity). Track IDs change from
 * one write to the next, so a song's id is its Location and a playlist's
 * its Playlist Persistent ID.
 *
 * Read: tracks of Track Type File (streams and cloud tracks have no file);
 * Rating 0–100, unrated when 0 or when `Rating Computed` says it is the
 * album's rating shown on the track; times from the `<date>`s (ISO 8601,
 * UTC). Playlists: the library (Master), hidden ones (Visible false) and
 * built-ins (Distinguished Kind) are skipped; folders are not playlists but
 * name the ones inside them (`Folder/Name`); smart ones (Smart Info/Smart
 * Criteria) are synced with the items iTunes materialised.
 */
import { join, win32 } from 'node:path';
import type { XmlTag, XmlText } from '../../core/xml-scanner.js';
import type { Problem } from '../../core/problem.js';
import { FileError } from '../../errors.js';
import type { PlayerPlaylist, PlayerSnapshot, PlayerSong } from '../player-model.js';
import { uriToPath, UriPathError } from '../uri-path.js';
import type { XmlPlayerAdapter } from '../xml-adapter.js';
import { scanXmlFile, TextBuffer } from '../xml-file.js';

/** Where an open container sits in the library. */
type Ctx = 'plist' | 'top' | 'tracks' | 'track' | 'playlists' | 'playlist' | 'items' | 'item' | 'skip';

type Value = string | boolean;
type Record = Map<string, Value>;

/** The keys read of a track, a playlist and a playlist item; the values of all others are never decoded. */
const WANTED: { [ctx in Ctx]?: ReadonlySet<string> } = {
  track: new Set(['Track ID', 'Track Type', 'Location', 'Name', 'Artist', 'Album', 'Album Artist', 'Genre', 'Year', 'Track Number', 'Disc Number', 'Total Time', 'Rating', 'Rating Computed', 'Play Count', 'Play Date UTC', 'Date Added']),
  playlist: new Set(['Name', 'Master', 'Visible', 'Distinguished Kind', 'Folder', 'Playlist ID', 'Playlist Persistent ID', 'Parent Persistent ID', 'Smart Info', 'Smart Criteria']),
  item: new Set(['Track ID']),
};

/** Plist elements holding a scalar in their text. `data` (base64) is only noted as present. */
const TEXT_VALUES = new Set(['string', 'integer', 'real', 'date']);

function quoted(s: Value | undefined): string {
  return typeof s !== 'string' ? '' : ` ${JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s)}`;
}

function str(r: Record, k: string): string | undefined {
  const v = r.get(k);
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Reads the library at `file`. Throws FileError when it is not readable, not well-formed, or not an iTunes library. */
export async function readItunes(file: string): Promise<PlayerSnapshot> {
  const songs: PlayerSong[] = [];
  const problems: Problem[] = [];
  /** Track ID → path, for playlist items. */
  const paths = new Map<string, string>();
  const playlists: Array<{ r: Record; items: string[]; line: number }> = [];
  const text = new TextBuffer();
  const stack: Ctx[] = [];
  let key: string | undefined;
  let inKey = false;
  let valueName = '';
  let items: string[] = [];
  let sawTracks = false;

  const problem = (message: string) => problems.push({ path: file, message });

  const endTrack = (r: Record, line: number) => {
    const id = str(r, 'Track ID');
    const type = str(r, 'Track Type');
    if (type !== undefined && type !== 'File') return;
    const where = () => `track${id === undefined ? '' : ` ${id}`} on line ${line}${quoted(r.get('Name'))}`;
    const location = str(r, 'Location');
    if (location === undefined) {
      problem(`${where()}: no Location`);
      return;
    }
    let path: string;
    try {
      path = uriToPath(location);
    } catch (err) {
      if (!(err instanceof UriPathError)) throw err;
      problem(`${where()}: Location${quoted(location)}: ${err.message}`);
      return;
    }
    const song: PlayerSong = { id: location, path };
    const int = (k: string): number | undefined => {
      const v = str(r, k);
      if (v === undefined) return undefined;
      if (/^-?\d{1,15}$/.test(v.trim())) return Number(v.trim());
      problem(`${where()}: ${k}${quoted(v)} is not a whole number; left out`);
      return undefined;
    };
    const date = (k: string): number | undefined => {
      const v = str(r, k);
      if (v === undefined) return undefined;
      const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v.trim()) ? Date.parse(v.trim()) : NaN;
      if (Number.isFinite(ms)) return ms;
      problem(`${where()}: ${k}${quoted(v)} is not a date; left out`);
      return undefined;
    };
    const positive = (n: number | undefined) => (n === undefined || n <= 0 ? undefined : n);
    const set = <K extends keyof PlayerSong>(k: K, v: PlayerSong[K] | undefined) => {
      if (v !== undefined) song[k] = v;
    };
    set('title', str(r, 'Name'));
    set('artist', str(r, 'Artist'));
    set('album', str(r, 'Album'));
    set('albumArtist', str(r, 'Album Artist'));
    set('genre', str(r, 'Genre'));
    set('year', positive(int('Year')));
    set('track', positive(int('Track Number')));
    set('disc', positive(int('Disc Number')));
    const ms = positive(int('Total Time'));
    set('durationSec', ms === undefined ? undefined : Math.round(ms / 1000));
    const rating = int('Rating');
    if (rating !== undefined && rating > 0 && r.get('Rating Computed') !== true) {
      if (rating <= 100) song.rating = rating;
      else problem(`${where()}: Rating ${rating} is not 0–100; left out`);
    }
    const plays = int('Play Count');
    if (plays !== undefined && plays >= 0) song.playCount = plays;
    set('lastPlayed', date('Play Date UTC'));
    set('addedAt', date('Date Added'));
    songs.push(song);
    if (id !== undefined) paths.set(id, path);
  };

  /** The context of a container opened under `parent` after key `k`. */
  const child = (parent: Ctx | undefined, name: string, k: string | undefined): Ctx => {
    switch (parent) {
      case undefined:
        return 'plist';
      case 'plist':
        return name === 'dict' ? 'top' : 'skip';
      case 'top':
        if (name === 'dict' && k === 'Tracks') return 'tracks';
        return name === 'array' && k === 'Playlists' ? 'playlists' : 'skip';
      case 'tracks':
        return name === 'dict' ? 'track' : 'skip';
      case 'playlists':
        return name === 'dict' ? 'playlist' : 'skip';
      case 'playlist':
        return name === 'array' && k === 'Playlist Items' ? 'items' : 'skip';
      case 'items':
        return name === 'dict' ? 'item' : 'skip';
      default:
        return 'skip';
    }
  };

  /** The record (key → value) each open container gathers: tracks, playlists and their items do. */
  const records: Array<Record | undefined> = [];
  const lines: number[] = [];
  await scanXmlFile(
    file,
    {
      open(tag: XmlTag) {
        const name = tag.name;
        const top = stack[stack.length - 1];
        if (top === undefined && name !== 'plist') throw new FileError(file, `not an iTunes library: its root is <${name}>, not <plist>`);
        if (name === 'dict' || name === 'array' || name === 'plist') {
          if (top === 'top' && key === 'Tracks') sawTracks = true;
          const ctx = child(top, name, key);
          stack.push(ctx);
          records.push(ctx === 'track' || ctx === 'playlist' || ctx === 'item' ? new Map() : undefined);
          lines.push(tag.line);
          if (ctx === 'playlist') items = [];
          key = undefined;
          return;
        }
        if (records[records.length - 1] === undefined && top !== 'top') return;
        if (name === 'key') {
          inKey = true;
          text.start();
        } else if (TEXT_VALUES.has(name) && top !== undefined && key !== undefined && WANTED[top]?.has(key) === true) {
          valueName = name;
          text.start();
        }
      },
      text(run: XmlText) {
        text.add(run);
      },
      close(name: string) {
        if (name === 'dict' || name === 'array' || name === 'plist') {
          const ctx = stack.pop();
          const r = records.pop();
          const line = lines.pop() ?? 0;
          if (r !== undefined) {
            if (ctx === 'track') endTrack(r, line);
            else if (ctx === 'playlist') playlists.push({ r, items, line });
            else {
              const id = str(r, 'Track ID');
              if (id !== undefined) items.push(id);
            }
          }
          key = undefined;
          return;
        }
        if (name === 'key') {
          if (inKey) key = text.take();
          inKey = false;
          return;
        }
        const r = records[records.length - 1];
        if (r !== undefined && key !== undefined && WANTED[stack[stack.length - 1] as Ctx]?.has(key) === true) {
          if (name === 'true' || name === 'false') r.set(key, name === 'true');
          else if (name === 'data') r.set(key, '');
          else if (valueName === name && text.on) r.set(key, text.take());
        }
        text.on = false;
        key = undefined;
      },
    },
    { doctype: 'skip' },
  );
  if (!sawTracks) throw new FileError(file, 'not an iTunes library: no Tracks');
  return { songs, playlists: buildPlaylists(playlists, paths, problem), problems };
}

/**
 * The synced playlists, named by their folders, with their items as paths
 * in order; folders, the library, hidden and built-in playlists left out.
 */
function buildPlaylists(read: Array<{ r: Record; items: string[]; line: number }>, paths: Map<string, string>, problem: (m: string) => void): PlayerPlaylist[] {
  const byPid = new Map<string, Record>();
  for (const { r } of read) {
    const pid = str(r, 'Playlist Persistent ID');
    if (pid !== undefined) byPid.set(pid, r);
  }
  /** The folder path above `r`, or undefined when its chain of parents loops or names a missing folder. */
  const folders = (r: Record): string[] | undefined => {
    const out: string[] = [];
    const seen = new Set<Record>([r]);
    for (let parent = str(r, 'Parent Persistent ID'); parent !== undefined; ) {
      const p = byPid.get(parent);
      if (p === undefined || seen.has(p)) return undefined;
      seen.add(p);
      out.unshift(str(p, 'Name') ?? '');
      parent = str(p, 'Parent Persistent ID');
    }
    return out;
  };
  const out: PlayerPlaylist[] = [];
  const positions = new Map<string, number>();
  for (const { r, items, line } of read) {
    if (r.get('Master') === true || r.get('Visible') === false || r.has('Distinguished Kind')) continue;
    // Folders are not playlists, but they take their place among their siblings.
    const parent = str(r, 'Parent Persistent ID') ?? '';
    const position = positions.get(parent) ?? 0;
    positions.set(parent, position + 1);
    if (r.get('Folder') === true) continue;
    const name = str(r, 'Name') ?? '';
    const where = `playlist${quoted(name)} on line ${line}`;
    const above = folders(r);
    if (above === undefined) {
      problem(`${where}: its folder (Parent Persistent ID${quoted(r.get('Parent Persistent ID'))}) is missing or contains itself; not synced`);
      continue;
    }
    const id = str(r, 'Playlist Persistent ID') ?? str(r, 'Playlist ID');
    if (id === undefined) {
      problem(`${where}: no Playlist Persistent ID; not synced`);
      continue;
    }
    // Items that are no file (streams, cloud tracks) or whose Location was refused (already a problem) are left out.
    const list: string[] = [];
    for (const item of items) {
      const path = paths.get(item);
      if (path !== undefined) list.push(path);
    }
    out.push({ id, name: [...above, name].join('/'), smart: r.has('Smart Info') || r.has('Smart Criteria'), paths: list, position });
  }
  return out;
}

export const itunes: XmlPlayerAdapter = {
  kind: 'xml',
  name: 'itunes',
  label: 'iTunes / Music',
  defaultPaths(env, home, platform) {
    if (platform === 'win32') {
      const profile = env['USERPROFILE'] !== undefined && env['USERPROFILE'] !== '' ? env['USERPROFILE'] : home;
      const dir = win32.join(profile, 'Music', 'iTunes');
      return [win32.join(dir, 'iTunes Music Library.xml'), win32.join(dir, 'iTunes Library.xml')];
    }
    if (platform === 'darwin') {
      const dir = join(home, 'Music', 'iTunes');
      // Music (macOS 10.15+) writes Library.xml only when "Share Library XML with other applications" is on.
      return [join(dir, 'iTunes Music Library.xml'), join(dir, 'iTunes Library.xml'), join(home, 'Music', 'Music', 'Library.xml')];
    }
    return [];
  },
  files(main) {
    return [main];
  },
  read: readItunes,
};
