import { describe, expect, it } from 'vitest';
import { UsageError } from '../../errors.js';
import { parseS3Url, s3Url } from './s3-url.js';

describe('parseS3Url', () => {
  it.each([
    ['s3://bucket', { bucket: 'bucket', prefix: '' }, 's3://bucket'],
    ['s3://bucket/', { bucket: 'bucket', prefix: '' }, 's3://bucket'],
    ['s3://bucket/dj', { bucket: 'bucket', prefix: 'dj/' }, 's3://bucket/dj'],
    ['s3://bucket/dj/', { bucket: 'bucket', prefix: 'dj/' }, 's3://bucket/dj'],
    ['s3://bucket//dj/sets', { bucket: 'bucket', prefix: 'dj/sets/' }, 's3://bucket/dj/sets'],
    ['S3://my.bucket-1/Music Library', { bucket: 'my.bucket-1', prefix: 'Music Library/' }, 's3://my.bucket-1/Music Library'],
  ])('%s', (url, loc, canonical) => {
    expect(parseS3Url(url)).toEqual(loc);
    expect(s3Url(parseS3Url(url))).toBe(canonical);
  });

  it.each(['s3://', 's3:///prefix', 's3://b', 's3://bad bucket/x', 'http://bucket/x'])('rejects %s', (url) => {
    expect(() => parseS3Url(url)).toThrow(UsageError);
    expect(() => parseS3Url(url)).toThrow(url);
  });
});
