import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Md5Parts } from '../../core/etag.js';
import { downloadHasher, downloadMismatch } from './s3-verify.js';

const MiB = 1024 * 1024;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('download verification', () => {
  const data = randomBytes(12 * MiB + 7);
  const awsEtag = (partSize: number) => {
    const h = new Md5Parts(partSize);
    h.update(data);
    return h.digest().etag ?? '';
  };
  const sums = (etag: string | undefined) => {
    const h = downloadHasher(etag, data.length);
    h.update(data);
    return h.digest();
  };

  it('accepts bytes matching a plain ETag, a multipart ETag or the md5 metadata', () => {
    expect(downloadMismatch(sums(md5(data)), { etag: md5(data) })).toBeUndefined();
    const multi = awsEtag(5 * MiB); // 3 parts, as rclone would cut it
    expect(multi).toMatch(/-3$/);
    expect(downloadMismatch(sums(multi), { etag: multi })).toBeUndefined();
    expect(downloadMismatch(sums('0123456789abcdef0123456789abcdef-9'), { etag: '0123456789abcdef0123456789abcdef-9', metaMd5: md5(data) })).toBeUndefined();
  });

  it('refuses bytes that match none of the references', () => {
    const other = md5(Buffer.from('other'));
    expect(downloadMismatch(sums(other), { etag: other })).toBe(other);
    const multi = awsEtag(5 * MiB).replace(/^./, (c) => (c === '0' ? '1' : '0'));
    expect(downloadMismatch(sums(multi), { etag: multi, metaMd5: other })).toContain(multi);
  });

  it('makes expectMd5 decisive, and passes objects with no usable reference', () => {
    expect(downloadMismatch(sums(md5(data)), { expectMd5: md5(Buffer.from('x')), etag: md5(data) })).toBeDefined();
    expect(downloadMismatch(sums(undefined), { expectMd5: md5(data).toUpperCase() })).toBeUndefined();
    expect(downloadMismatch(sums('opaque-etag'), { etag: 'opaque-etag' })).toBeUndefined();
  });
});
