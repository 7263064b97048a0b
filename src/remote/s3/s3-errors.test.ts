import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ChecksumError, classify, CratesyncError, NotFoundError, TransientError, UnreachableError } from '../../errors.js';
import { mapS3Error, type S3ErrorContext } from './s3-errors.js';

const ctx: S3ErrorContext = { op: 'PutObject', bucket: 'crate', endpoint: 'http://127.0.0.1:9000', key: 'a.mp3', where: 's3://crate/a.mp3' };
const sdkError = (name: string, status?: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
const netError = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('mapS3Error', () => {
  it.each([
    [sdkError('SlowDown', 503), TransientError],
    [sdkError('InternalError', 500), TransientError],
    [sdkError('Unknown', 502), TransientError],
    [sdkError('RequestTimeout', 400), TransientError],
    [sdkError('TimeoutError'), TransientError],
    [netError('ECONNRESET', 'socket hang up'), TransientError],
    [netError('EPIPE'), TransientError],
    [netError('ETIMEDOUT'), TransientError],
    [sdkError('BadDigest', 400), ChecksumError],
    [sdkError('AccessDenied', 403), AccessDeniedError],
    [sdkError('InvalidAccessKeyId', 403), AccessDeniedError],
    [sdkError('SignatureDoesNotMatch', 403), AccessDeniedError],
    [sdkError('CredentialsProviderError'), AccessDeniedError],
    [sdkError('NoSuchBucket', 404), UnreachableError],
    [netError('ECONNREFUSED'), UnreachableError],
    [netError('ENOTFOUND'), UnreachableError],
    [sdkError('NoSuchKey', 404), NotFoundError],
    [sdkError('NotFound', 404), NotFoundError],
  ])('%s → %o', (err, cls) => {
    expect(mapS3Error(err, ctx)).toBeInstanceOf(cls);
  });

  it('says what to do about missing credentials, and names the bucket or endpoint when unreachable', () => {
    expect((mapS3Error(sdkError('CredentialsProviderError'), ctx) as Error).message).toBe(
      'no AWS credentials found: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or use --profile',
    );
    expect((mapS3Error(sdkError('CredentialsProviderError'), { ...ctx, profile: 'nas' }) as Error).message).toContain('"nas"');
    expect((mapS3Error(sdkError('NoSuchBucket', 404), ctx) as Error).message).toContain('crate');
    expect((mapS3Error(netError('ECONNREFUSED'), ctx) as Error).message).toContain('http://127.0.0.1:9000');
  });

  it('keeps the cause, passes our errors and aborts through, and makes unknown errors per-file failures', () => {
    const slow = sdkError('SlowDown', 503);
    expect((mapS3Error(slow, ctx) as Error).cause).toBe(slow);
    const ours = new ChecksumError('x');
    expect(mapS3Error(ours, ctx)).toBe(ours);
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(mapS3Error(abort, ctx)).toBe(abort);
    const odd = mapS3Error(sdkError('InvalidStorageClass', 400), ctx);
    expect(odd).toBeInstanceOf(CratesyncError);
    expect(classify(odd)).toBe('file');
    expect((odd as Error).message).toContain('InvalidStorageClass (HTTP 400)');
  });
});
