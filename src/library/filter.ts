/**
 * Which library files take part in a sync: by extension, never hidden files
 * or macOS resource forks (`._*`), then include/exclude globs (exclude wins).
 */
import picomatch from 'picomatch';
import { extname } from 'node:path';

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
}

export interface PathFilter {
  /** True when a file at library-relative `path` ('/'-separated) takes part. */
  file(path: string): boolean;
  /** True when a directory's name alone rules it out (hidden). */
  skipDir(name: string): boolean;
}

/** A glob without a slash matches the file name anywhere; `dir/` means everything below dir. */
function compile(globs: readonly string[] | undefined): ((p: string) => boolean) | undefined {
  if (!globs || globs.length === 0) return undefined;
  const patterns = globs.map((g) => (g.endsWith('/') ? `${g}**` : g));
  return picomatch(patterns, { basename: true, dot: true });
}

/** makeFilter builds the filter for one run from config and flags. */
export function makeFilter(options: FilterOptions = {}): PathFilter {
  const exts = new Set((options.extensions ?? DEFAULT_EXTENSIONS).map((e) => `.${e.replace(/^\./, '').toLowerCase()}`));
  const include = compile(options.include);
  const exclude = compile(options.exclude);
  return {
    file(path) {
      const name = path.slice(path.lastIndexOf('/') + 1);
      if (name.startsWith('.')) return false; // hidden files and macOS `._*` resource forks
      if (!exts.has(extname(name).toLowerCase())) return false;
      if (exclude?.(path)) return false;
      return include ? include(path) : true;
    },
    skipDir(name) {
      return name.startsWith('.');
    },
  };
}
