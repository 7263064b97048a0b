/**
 * Rhythmbox: `rhythmdb.xml` (the library) and `playlists.xml` beside it.
 *
 * The format, as Rhythmbox 3.4 writes it (rhythmdb/rhythmdb-tree.c,
 * rhythmdb_tree_save / save_entry): `<rhythmdb version="2.0">` of
 * `<entry type="song">` with one element per set property, text escaped by
 * libxml2 (non-ASCII as character references), numbers in decimal:
 * duration and the times (mtime, first-seen, last-seen, last-played) in
 * seconds, rating a double 0–5, date a GLib Julian day, location a
 * percent-encoded file:// URI. Other entry types (podcasts, radio, import
 * errors, ignored files) are skipped, and so are hidden entries (files
 * Rhythmbox found missing). playlists.xml (shell/rb-playlist-manager.c):
 * `<rhythmdb-playlists>` of `<playlist name type>`; static ones list
 * `<location>`s in order, automatic ones hold a query (rhythmbox-query.ts),
 * the play queue is skipped.
 */
import { access } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { XmlTag, XmlText } from '../../core/xml-scanner.js';
import type { Problem } from '../../core/problem.js';
import { FileError } from '../../errors.js';
import type { PlayerPlaylist, PlayerSnapshot, PlayerSong } from '../player-model.js';
import { uriToPath, UriPathError } from '../uri-path.js';
import type { XmlPlayerAdapter } from '../xml-adapter.js';
import { scanXmlFile, TextBuffer } from '../xml-file.js';
import { julianYear, translateQuery, UntranslatableError, type AutoAttrs, type QueryNode } from './rhythmbox-query.js';

/** Property elements whose text is a count or a time: unsigned decimal integers. */
const INTEGER_PROPS = new Set(['track-number', 'disc-number', 'duration', 'play-count', 'last-played', 'first-seen', 'date', 'hidden']);
/** Property elements read; every other one is skipped without decoding. */
const READ_PROPS = new Set(['title', 'artist', 'album', 'album-artist', 'genre', 'location', 'rating', ...INTEGER_PROPS]);

function quoted(s: string | undefined): string {
  return s === undefined ? '' : ` ${JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s)}`;
}

/** Reads rhythmdb.xml: the songs, and a problem per entry that cannot be used. */
export async function readRhythmdb(file: string): Promise<{ songs: PlayerSong[]; problems: Problem[] }> {
  const songs: PlayerSong[] = [];
  const problems: Problem[] = [];
  const text = new TextBuffer();
  let depth = 0;
  let inSong = false;
  let entryLine = 0;
  let props = new Map<string, string>();
  let prop = '';

  const endEntry = () => {
    if (props.get('hidden') === '1') return;
    const line = entryLine;
    const where = () => `entry on line ${line}${quoted(props.get('title'))}`;
    const location = props.get('location');
    if (location === undefined) {
      problems.push({ path: file, message: `${where()}: no location` });
      return;
    }
    let path: string;
    try {
      path = uriToPath(location);
    } catch (err) {
      if (!(err instanceof UriPathError)) throw err;
      problems.push({ path: file, message: `${where()}: location${quoted(location)}: ${err.message}` });
      return;
    }
    const song: PlayerSong = { id: location, path };
    const str = (k: string) => {
      const v = props.get(k);
      return v === undefined || v === '' ? undefined : v;
    };
    const int = (k: string): number | undefined => {
      const v = props.get(k);
      if (v === undefined) return undefined;
      if (/^\d{1,15}$/.test(v.trim())) return Number(v.trim());
      problems.push({ path: file, message: `${where()}: <${k}>${quoted(v)} is not a whole number; left out` });
      return undefined;
    };
    const set = <K extends keyof PlayerSong>(k: K, v: PlayerSong[K] | undefined) => {
      if (v !== undefined) song[k] = v;
    };
    set('title', str('title'));
    set('artist', str('artist'));
    set('album', str('album'));
    set('albumArtist', str('album-artist'));
    set('genre', str('genre'));
    const date = int('date');
    set('year', date === undefined ? undefined : julianYear(date));
    const positive = (n: number | undefined) => (n === undefined || n === 0 ? undefined : n);
    set('track', positive(int('track-number')));
    set('disc', positive(int('disc-number')));
    set('durationSec', positive(int('duration')));
    const rating = props.get('rating');
    if (rating !== undefined) {
      const r = Number(rating.trim());
      if (rating.trim() !== '' && Number.isFinite(r) && r >= 0 && r <= 5) {
        if (r > 0) song.rating = Math.round(r * 20);
      } else {
        problems.push({ path: file, message: `${where()}: <rating>${quoted(rating)} is not 0–5; left out` });
      }
    }
    set('playCount', int('play-count'));
    const ms = (n: number | undefined) => (n === undefined || n === 0 ? undefined : n * 1000);
    set('lastPlayed', ms(int('last-played')));
    set('addedAt', ms(int('first-seen')));
    songs.push(song);
  };

  let rootChecked = false;
  await scanXmlFile(file, {
    open(tag: XmlTag) {
      depth++;
      if (depth === 1) {
        if (tag.name !== 'rhythmdb') throw new FileError(file, `not a Rhythmbox library: its root is <${tag.name}>, not <rhythmdb>`);
        rootChecked = true;
      } else if (depth === 2) {
        inSong = tag.name === 'entry' && tag.attr('type') === 'song';
        if (inSong) {
          entryLine = tag.line;
          props = new Map();
        }
      } else if (depth === 3 && inSong && READ_PROPS.has(tag.name)) {
        prop = tag.name;
        text.start();
      }
    },
    text(run: XmlText) {
      text.add(run);
    },
    close() {
      if (depth === 3 && text.on) props.set(prop, text.take());
      else if (depth === 2 && inSong) {
        endEntry();
        inSong = false;
      }
      depth--;
    },
  });
  if (!rootChecked) throw new FileError(file, 'not a Rhythmbox library');
  return { songs, problems };
}

/** Reads playlists.xml: static and automatic playlists in file order, a problem for each that cannot be used. */
export async function readRhythmboxPlaylists(file: string): Promise<{ playlists: PlayerPlaylist[]; problems: Problem[] }> {
  const playlists: PlayerPlaylist[] = [];
  const problems: Problem[] = [];
  const text = new TextBuffer();
  let depth = 0;
  let position = 0;
  let current: { name: string; type: string; line: number; attrs: AutoAttrs; locations: string[]; query: QueryNode[] } | undefined;
  const names = new Map<string, number>();
  /** Open query elements of the current automatic playlist. */
  const stack: QueryNode[] = [];

  const endPlaylist = () => {
    if (current === undefined) return;
    const { name, type, line, attrs, locations, query } = current;
    const where = `playlist${quoted(name)} (line ${line})`;
    // Rhythmbox gives playlists no id but their name; a repeated name gets a suffix to keep ids unique.
    const seen = (names.get(name) ?? 0) + 1;
    names.set(name, seen);
    const id = seen === 1 ? name : `${name}#${seen}`;
    if (type === 'static') {
      const paths: string[] = [];
      for (const location of locations) {
        try {
          paths.push(uriToPath(location));
        } catch (err) {
          if (!(err instanceof UriPathError)) throw err;
          problems.push({ path: file, message: `${where}: location${quoted(location)} left out: ${err.message}` });
        }
      }
      playlists.push({ id, name, smart: false, paths, position: position++ });
    } else if (type === 'automatic') {
      try {
        playlists.push({ id, name, smart: true, paths: [], rule: translateQuery(query, attrs), position: position++ });
      } catch (err) {
        if (!(err instanceof UntranslatableError)) throw err;
        problems.push({ path: file, message: `${where}: automatic playlist not synced: ${err.message}` });
      }
    } else if (type !== 'queue') {
      problems.push({ path: file, message: `${where}: unknown playlist type${quoted(type)}; not synced` });
    }
  };

  await scanXmlFile(file, {
    open(tag: XmlTag) {
      depth++;
      if (depth === 1) {
        if (tag.name !== 'rhythmdb-playlists') throw new FileError(file, `not Rhythmbox playlists: its root is <${tag.name}>, not <rhythmdb-playlists>`);
      } else if (depth === 2) {
        current =
          tag.name === 'playlist'
            ? {
                name: tag.attr('name') ?? '',
                type: tag.attr('type') ?? '',
                line: tag.line,
                attrs: {
                  limitCount: tag.attr('limit-count'),
                  limitSize: tag.attr('limit-size'),
                  limitTime: tag.attr('limit-time'),
                  limit: tag.attr('limit'),
                  sortKey: tag.attr('sort-key'),
                  sortDirection: tag.attr('sort-direction'),
                },
                locations: [],
                query: [],
              }
            : undefined;
      } else if (current !== undefined) {
        if (depth === 3 && tag.name === 'location' && current.type === 'static') {
          text.start();
        } else if (current.type === 'automatic') {
          const node: QueryNode = { name: tag.name, text: '', children: [] };
          const p = tag.attr('prop');
          if (p !== undefined) node.prop = p;
          const parent = stack[stack.length - 1];
          (parent === undefined ? current.query : parent.children).push(node);
          stack.push(node);
          text.start();
        }
      }
    },
    text(run: XmlText) {
      text.add(run);
    },
    close() {
      if (depth === 2) {
        endPlaylist();
        current = undefined;
      } else if (current !== undefined && depth >= 3) {
        if (current.type === 'static' && depth === 3 && text.on) current.locations.push(text.take().trim());
        else if (current.type === 'automatic') {
          const node = stack.pop();
          // Only a leaf's text is a value; a container's is the whitespace between its children.
          if (node !== undefined && node.children.length === 0) node.text = text.take();
          text.on = false;
        }
      }
      depth--;
    },
  });
  return { playlists, problems };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

export const rhythmbox: XmlPlayerAdapter = {
  kind: 'xml',
  name: 'rhythmbox',
  label: 'Rhythmbox',
  defaultPaths(env, home, platform) {
    if (platform === 'win32' || platform === 'darwin') return [];
    // g_get_user_data_dir(): $XDG_DATA_HOME, else ~/.local/share; Rhythmbox before 0.13 used ~/.gnome2/rhythmbox.
    const data = env['XDG_DATA_HOME'] !== undefined && env['XDG_DATA_HOME'] !== '' ? env['XDG_DATA_HOME'] : join(home, '.local', 'share');
    return [join(data, 'rhythmbox', 'rhythmdb.xml'), join(home, '.gnome2', 'rhythmbox', 'rhythmdb.xml')];
  },
  files(main) {
    return [main, join(dirname(main), 'playlists.xml')];
  },
  async read(main): Promise<PlayerSnapshot> {
    const { songs, problems } = await readRhythmdb(main);
    const playlistsFile = join(dirname(main), 'playlists.xml');
    // A library whose user never made a playlist may have no playlists.xml yet.
    if (!(await exists(playlistsFile))) return { songs, playlists: [], problems };
    const read = await readRhythmboxPlaylists(playlistsFile);
    return { songs, playlists: read.playlists, problems: [...problems, ...read.problems] };
  },
};
