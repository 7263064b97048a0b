/**
 * The PATTERN of `cratesync ls`, which picks catalog entries the way
 * `beet ls` picks tracks. Each argument is one term, and an entry is shown
 * when every term matches it:
 * - an argument holding a glob character (`*`, `?`, `[`, `{`) is a glob on
 *   the library path, with the grammar of `--include` (see
 *   library/filter.ts: `*.flac` matches file names anywhere, `Live/**` the
 *   whole path), so `ls GLOB` shows what `push --include GLOB` would take;
 * - any other argument is split into words, and each word must occur, in
 *   any letter case, in the path or in the artist, title, album, album
 *   artist or genre tag.
 * Tags come from a shared bucket's catalog: only string values count.
 */
import type { Tags } from '../core/tags.js';
import { globMatcher } from '../library/filter.js';

/** The tags a word is looked for in. */
const WORD_FIELDS = ['artist', 'title', 'album', 'albumArtist', 'genre'] as const;

const GLOB_CHARS = /[*?[{]/;

/** What a term is tested against: a library path (NFC) and the tags the catalog knows. */
export interface LsEntry {
  path: string;
  tags?: Tags;
}

/** isGlob tells a glob term from a term of words. */
export function isGlob(term: string): boolean {
  return GLOB_CHARS.test(term);
}

/** fold is what word matching compares: NFC, lower case. */
function fold(s: string): string {
  return s.normalize('NFC').toLowerCase();
}

/**
 * lsMatcher compiles `terms` (the PATTERN arguments) into a test of one
 * entry; no terms match everything. Throws nothing: any string is a valid
 * term (picomatch takes a malformed glob literally).
 */
export function lsMatcher(terms: readonly string[]): (e: LsEntry) => boolean {
  const globs = terms.filter(isGlob).map((g) => globMatcher([g])).filter((m) => m !== undefined);
  const words = terms
    .filter((t) => !isGlob(t))
    .flatMap((t) => t.split(/\s+/u))
    .filter((w) => w !== '')
    .map(fold);
  if (globs.length === 0 && words.length === 0) return () => true;
  return (e) => {
    for (const g of globs) if (!g(e.path)) return false;
    if (words.length === 0) return true;
    // Words never hold white space, so joining fields with a newline lets no word span two of them.
    const hay = [e.path, ...WORD_FIELDS.map((f) => e.tags?.[f])].filter((v): v is string => typeof v === 'string').map(fold).join('\n');
    return words.every((w) => hay.includes(w));
  };
}
