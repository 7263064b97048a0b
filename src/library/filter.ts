/**
 * Which library files take part in a sync: by extension, never hidden files
 * or macOS resource forks (`._*`), then include/exclude globs (exclude wins).
 */
import { createRequire } from 'node:module';
import { extname } from 'node:path';

/** picomatch, loaded with the first glob: most runs have none, and every run (and the walk worker) would pay its start-up. */
const loadPicomatch = () => createRequire(import.meta.url)('picomatch') as typeof import('picomatch');

/** Audio, cue sheets, playlists and cover images: what a music library is made of. */
export const DEFAULT_EXTENSIONS: readonly string[] = [
  'mp3', 'flac', 'm4a', 'aac', 'alac', 'mp4', 'ogg', 'oga', 'opus', 'wav', 'aif', 'aiff', 'aifc', 'wma',
  'cue', 'm3u', 'm3u8',
  'jpg', 'jpeg', 'png', 'gif', 'webp', 'bmp',
];

export interface FilterOptions {
  /** Extensions without the dot, any case. */
  extensions?: readonly string[];
  include?: readonly string[];
  exclude?: readonly string[];
  /** Only these library paths (NFC, '/'-separated), exactly: a pull of some playlists' tracks. */
  paths?: readonly string[];
}

/**
 * The library's playlists folder (`<library>/Playlists/`), where cratesync
 * writes the M3U8 playlists it pulls from a crew and from players. They are
 * made from the catalog, not music: never sent to `music/` as files.
 */
export const PLAYLISTS_DIR = 'Playlists';

export interface PathFilter {
  /** True when a file at library-relative `path` ('/'-separated) takes part. */
  file(path: string): boolean;
  /** True when a directory's name alone rules it out (hidden). */
  skipDir(name: string): boolean;
  /** What the filter was made from: makeFilter(options) makes it again (in another thread). */
  readonly options: FilterOptions;
}

/**
 * globMatcher compiles globs against '/'-separated relative paths: a glob
 * without a slash matches the file name anywhere (`*.flac`), one with a slash
 * matches the whole path (`Podcasts/**`), and `dir/` means everything below
 * dir. Undefined when there are no globs.
 */
export function globMatcher(globs: readonly string[] | undefined): ((p: string) => boolean) | undefined {
  if (!globs || globs.length === 0) return undefined;
  const picomatch = loadPicomatch();
  const patterns = globs.map((g) => (g.endsWith('/') ? `${g}**` : g));
  // picomatch's basename mode would apply to every pattern, so names and paths compile apart.
  const names = patterns.filter((g) => !g.includes('/'));
  const paths = patterns.filter((g) => g.includes('/'));
  const byName = names.length > 0 ? picomatch(names, { basename: true, dot: true }) : undefined;
  const byPath = paths.length > 0 ? picomatch(paths, { dot: true }) : undefined;
  return (p) => Boolean(byName?.(p) || byPath?.(p));
}

/** makeFilter builds the filter for one run from config and flags. */
export function makeFilter(options: FilterOptions = {}): PathFilter {
  const exts = new Set((options.extensions ?? DEFAULT_EXTENSIONS).map((e) => `.${e.replace(/^\./, '').toLowerCase()}`));
  const include = globMatcher(options.include);
  const exclude = globMatcher(options.exclude);
  const only = options.paths ? new Set(options.paths) : undefined;
  return {
    options,
    file(path) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (name.startsWith('.')) return false; // hidden files and macOS `._*` resource forks
      if (!exts.has(extname(name).toLowerCase())) return false;
      if (path.startsWith(`${PLAYLISTS_DIR}/`)) return false;
      if (only && !only.has(path)) return false;
      if (exclude?.(path)) return false;
      return include ? include(path) : true;
    },
    skipDir(name) {
      return name.startsWith('.');
    },
  };
}
