/**
 * `s3://bucket/prefix` URLs: parsing and the canonical form used in messages.
 */
import { UsageError } from '../../errors.js';

/** A bucket and a key prefix inside it: '' or a string ending in '/'. */
export interface S3Location {
  bucket: string;
  prefix: string;
}

/**
 * Bucket names as S3 accepts them today, loosened to allow upper case and
 * underscores, which older buckets and some S3-compatible servers still use.
 */
const BUCKET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{1,254}$/;

/**
 * parseS3Url splits `s3://bucket[/prefix]` into a bucket and a prefix.
 * Leading slashes of the prefix are dropped and a trailing one added, so
 * `s3://b/dj`, `s3://b/dj/` and `s3://b//dj` all give prefix `dj/`. The prefix
 * is taken literally (no percent-decoding): key names are stored as typed.
 * Throws UsageError naming the URL when it is not of that form.
 */
export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/is.exec(url);
  const bucket = m?.[1] ?? '';
  if (!m || !BUCKET_RE.test(bucket)) {
    throw new UsageError(`invalid S3 URL ${url}: expected s3://bucket or s3://bucket/prefix`);
  }
  let prefix = (m[2] ?? '').replace(/^\/+/, '');
  if (prefix !== '' && !prefix.endsWith('/')) prefix += '/';
  return { bucket, prefix };
}

/** s3Url gives the canonical URL of a location: `s3://bucket` or `s3://bucket/prefix` (no trailing slash). */
export function s3Url(loc: S3Location): string {
  const prefix = loc.prefix.replace(/\/+$/, '');
  return prefix === '' ? `s3://${loc.bucket}` : `s3://${loc.bucket}/${prefix}`;
}
