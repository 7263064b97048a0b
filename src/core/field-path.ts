/**
 * fieldPath spells where in a document a check failed, as a reader finds it:
 * `tracks[3].path`, or `document` for the whole. Validators (zod) give the
 * path as keys and indexes.
 */
export function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return 'document';
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
}
