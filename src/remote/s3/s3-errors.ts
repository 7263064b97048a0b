/**
 * Mapping AWS SDK and network errors to cratesync's error classes, in one
 * place. Messages are one line, say what to do where the user can do
 * something, and never include credentials (the SDK error is kept as `cause`
 * for --verbose; it holds no secret either: responses never echo the secret
 * key).
 */
import { AccessDeniedError, ChecksumError, CratesyncError, NotFoundError, PreconditionError, RETRYABLE_CODES, TransientError, UnreachableError } from '../../errors.js';
import type { S3Timeouts } from './s3-client.js';

/** What was being done, for the message. */
export interface S3ErrorContext {
  /** SDK operation, e.g. 'PutObject'. */
  op: string;
  bucket: string;
  /** Endpoint as {@link describeEndpoint} prints it. */
  endpoint: string;
  /** Key relative to the remote root, when the operation is about one key. */
  key?: string;
  /** Full URL of the object or remote, for messages. */
  where: string;
  profile?: string;
  /** The client's timeouts, to say how long was waited (see s3-client.ts). */
  timeouts?: S3Timeouts;
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const TRANSIENT_CODES = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'RequestTimeoutException',
  'IncompleteBody',
  'OperationAborted',
  'TimeoutError',
  'ThrottlingException',
  'Throttling',
]);
const TRANSIENT_NET = RETRYABLE_CODES;
const UNREACHABLE_NET = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * mapS3Error turns what the SDK threw into the error the Remote contract
 * promises. Our own errors and aborts pass through unchanged; unknown S3
 * errors become a CratesyncError (classified as a per-file failure) naming the
 * operation, the S3 error code and the HTTP status.
 */
export function mapS3Error(err: unknown, ctx: S3ErrorContext): unknown {
  if (err instanceof CratesyncError) return err;
  const e = (err ?? {}) as SdkErrorShape;
  if (e.name === 'AbortError') return err;
  const status = e.$metadata?.httpStatusCode;
  const code = e.Code ?? (e.name && e.name !== 'Error' ? e.name : undefined) ?? e.code ?? 'Unknown';
  const netCode = e.code ?? '';
  const detail = `${code}${status ? ` (HTTP ${status})` : ''}`;
  const opts = { cause: err };

  const waited = timeoutMessage(err, ctx);
  if (waited) return new TransientError(waited, opts);
  if (UNREACHABLE_NET.has(netCode)) {
    return new UnreachableError(`cannot reach ${ctx.endpoint} for bucket ${ctx.bucket} (${netCode}): check the endpoint URL and your network`, opts);
  }
  if (TRANSIENT_NET.has(netCode) || TRANSIENT_CODES.has(code) || /socket hang up/i.test(e.message ?? '')) {
    return new TransientError(`${ctx.op} ${ctx.where}: ${netCode || detail}`, opts);
  }
  if (e.name === 'CredentialsProviderError' || /could not load credentials/i.test(e.message ?? '')) {
    const how = ctx.profile
      ? `check that profile "${ctx.profile}" exists in ~/.aws/config or ~/.aws/credentials`
      : 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or use --profile';
    return new AccessDeniedError(`no AWS credentials found: ${how}`, opts);
  }
  switch (code) {
    case 'BadDigest':
    case 'XAmzContentSHA256Mismatch':
      return new ChecksumError(`${ctx.op} ${ctx.where}: the server received bytes that do not match their checksum (${code})`, opts);
    case 'InvalidAccessKeyId':
      return new AccessDeniedError(`${ctx.endpoint} does not know this access key id: check AWS_ACCESS_KEY_ID or --profile`, opts);
    case 'SignatureDoesNotMatch':
      return new AccessDeniedError(`${ctx.endpoint} rejected the request signature: check the secret access key (AWS_SECRET_ACCESS_KEY or --profile)`, opts);
    case 'ExpiredToken':
    case 'TokenRefreshRequired':
      return new AccessDeniedError('the AWS session token has expired: refresh your credentials (e.g. aws sso login)', opts);
    case 'RequestTimeTooSkewed':
      return new AccessDeniedError(`${ctx.endpoint} rejected the request because this computer's clock is off: fix the system time`, opts);
    case 'NoSuchBucket':
      return new UnreachableError(`bucket ${ctx.bucket} does not exist at ${ctx.endpoint}: create it or check the URL and --endpoint`, opts);
    case 'PermanentRedirect':
    case 'AuthorizationHeaderMalformed':
      return new UnreachableError(`bucket ${ctx.bucket} is in another region: set --region or AWS_REGION`, opts);
    case 'NoSuchKey':
      return new NotFoundError(ctx.key ?? ctx.where);
    case 'PreconditionFailed':
    case 'ConditionalRequestConflict':
      return new PreconditionError(`${ctx.op} ${ctx.where}: another writer stored this key meanwhile (${code})`, opts);
  }
  if (code === 'AccessDenied' || code === 'AllAccessDisabled' || status === 403) {
    return new AccessDeniedError(`access denied to ${ctx.where} (${ctx.op}): check the credentials and the bucket policy`, opts);
  }
  if (status === 404 && ctx.key !== undefined) return new NotFoundError(ctx.key);
  if (status !== undefined && (status >= 500 || status === 429)) return new TransientError(`${ctx.op} ${ctx.where}: ${detail}`, opts);
  return new CratesyncError(`${ctx.op} ${ctx.where} failed: ${detail}${e.message && e.message !== code ? `: ${firstLine(e.message)}` : ''}`, opts);
}

/**
 * timeoutMessage says which of the client's timeouts `err` is (see
 * S3Timeouts), naming the endpoint and the wait, or undefined when it is
 * none of them. A timeout is worth a retry; the remote gives up on an
 * endpoint that leaves many requests in a row unanswered (see s3-remote.ts).
 */
export function timeoutMessage(err: unknown, ctx: S3ErrorContext): string | undefined {
  if (!isClientTimeout(err)) return undefined;
  const message = (err as { message?: string }).message ?? '';
  const t = ctx.timeouts;
  const who = ctx.endpoint === 'AWS S3' ? 'AWS S3' : `s3 endpoint ${ctx.endpoint}`;
  const what = `(${ctx.op} ${ctx.where})`;
  if (/establish a connection/.test(message)) return `${who} did not accept a connection${t ? ` within ${seconds(t.connectMs)}` : ''} ${what}`;
  const within = !t ? '' : /requestTimeout/.test(message) ? ` within ${seconds(t.deadlineMs)}` : ` within ${seconds(t.idleMs)}`;
  return `${who} did not answer${within} ${what}`;
}

/** isClientTimeout tells the timeouts the SDK's HTTP handler raises (connection, silence, deadline). */
export function isClientTimeout(err: unknown): boolean {
  const e = err as { name?: string; message?: string } | null;
  return e?.name === 'TimeoutError' && /^@smithy\/node-http-handler/.test(e.message ?? '');
}

function seconds(ms: number): string {
  if (ms < 100) return `${ms} ms`;
  return `${Number((ms / 1000).toFixed(ms < 10_000 ? 1 : 0))} s`;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
