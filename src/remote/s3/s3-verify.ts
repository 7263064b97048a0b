/**
 * Checking downloaded bytes against what an S3 object says about itself.
 */
import { Md5Parts, parseEtag, partSizeCandidates } from '../../core/etag.js';

/**
 * downloadHasher returns the hasher for an object with `etag` and `size`:
 * for a multipart ETag it also recomputes the multipart ETag, cutting parts
 * at the likeliest part size for that size and part count (a 16 MiB upload of
 * ours is found first; other tools' 8 and 5 MiB too).
 */
export function downloadHasher(etag: string | undefined, size: number | undefined): Md5Parts {
  const { parts } = parseEtag(etag);
  return new Md5Parts(parts && size !== undefined ? partSizeCandidates(size, parts)[0] : undefined);
}

/** What is known about the object, to check the download against. */
export interface DownloadRefs {
  /** The caller's expectation: decisive when given. */
  expectMd5?: string;
  /** The object's ETag (plain MD5 or multipart). */
  etag?: string;
  /** The `md5` user metadata our uploads store. */
  metaMd5?: string;
}

/**
 * downloadMismatch returns what the bytes were expected to hash to when they
 * do not, or undefined when they check out. Without `expectMd5` the bytes must
 * match at least one reference the object has: a guessed part size may miss a
 * multipart ETag, and an SSE-KMS ETag is no MD5, but corrupt bytes match
 * none. An object with no usable reference at all passes unverified.
 */
export function downloadMismatch(got: { md5: string; etag?: string }, refs: DownloadRefs): string | undefined {
  if (refs.expectMd5) return refs.expectMd5.toLowerCase() === got.md5 ? undefined : refs.expectMd5;
  const parsed = parseEtag(refs.etag);
  const checks: boolean[] = [];
  if (parsed.md5) checks.push(parsed.md5 === got.md5);
  if (parsed.parts && got.etag) checks.push(got.etag === `${parsed.digest}-${parsed.parts}`);
  if (refs.metaMd5) checks.push(refs.metaMd5.toLowerCase() === got.md5);
  if (checks.length === 0 || checks.includes(true)) return undefined;
  return [refs.etag, refs.metaMd5].filter(Boolean).join(' or ');
}
