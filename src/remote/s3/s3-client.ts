/**
 * Making the S3 client. The AWS SDK is imported here, lazily: loading it
 * is a noticeable part of start-up, which runs against a folder remote should not pay.
 * Every other S3 module imports SDK *types* only and gets the command
 * classes from the {@link S3Connection} this module returns.
 */
import { createRequire } from 'node:module';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import { UsageError } from '../../errors.js';

const require = createRequire(import.meta.url);

/** The `@aws-sdk/client-s3` module, loaded on first use. */
export type S3Sdk = typeof import('@aws-sdk/client-s3');

export interface S3Connection {
  sdk: S3Sdk;
  client: S3Client;
}

export interface S3ClientOptions {
  /** Endpoint URL of an S3-compatible server; path-style addressing is used with it. */
  endpoint?: string;
  region?: string;
  /** Profile of the shared AWS config/credentials files. */
  profile?: string;
  /** Sockets per host: enough for every request the remote may have in flight. */
  maxSockets: number;
  timeouts: S3Timeouts;
  /** Called whenever the server answers a request (with any status): see EndpointHealth. */
  onAnswer?: () => void;
}

/**
 * How long a request may wait on the server, in milliseconds. A server that
 * accepts connections and never answers must fail a run in bounded time, not
 * hang it; a slow upload of a big body must not be cut short.
 */
export interface S3Timeouts {
  /** To establish the TCP connection. */
  connectMs: number;
  /**
   * Of silence on the socket: no byte sent or received. It is the wait for
   * the first byte of an answer once the body is out, and a stalled transfer
   * either way; a body that keeps streaming never trips it, however long.
   */
  idleMs: number;
  /**
   * From the start of a request to the head of its answer, for requests
   * without a large body (lists, HEAD, copies, deletes, completes). Requests
   * that carry a large body (PUTs and parts) have none: their length depends
   * on the uplink, and `idleMs` guards them.
   */
  deadlineMs: number;
}

/**
 * The default timeouts: a connection within 5 s (loopback and the internet
 * alike connect in well under a second; a retry follows), 30 s of silence
 * (S3 answers in milliseconds, and keeps long operations such as
 * CompleteMultipartUpload alive with whitespace), 2 minutes for a request
 * without a body.
 */
export const DEFAULT_TIMEOUTS: S3Timeouts = { connectMs: 5_000, idleMs: 30_000, deadlineMs: 120_000 };

/** The environment variable that scales every timeout (seconds of silence; see {@link timeoutsFrom}). */
export const TIMEOUT_ENV = 'CRATESYNC_S3_TIMEOUT';

/**
 * timeoutsFrom gives the timeouts for `seconds` of allowed silence (the value
 * of CRATESYNC_S3_TIMEOUT when set, e.g. `0.5` for tests or `120` for a
 * very slow link): the connection within the lesser of that and 5 s, the
 * deadline four times it. Undefined or empty gives {@link DEFAULT_TIMEOUTS}.
 * Throws UsageError naming the variable for anything but a positive number.
 */
export function timeoutsFrom(seconds: string | undefined = process.env[TIMEOUT_ENV]): S3Timeouts {
  if (seconds === undefined || seconds.trim() === '') return DEFAULT_TIMEOUTS;
  const s = Number(seconds);
  if (!Number.isFinite(s) || s <= 0) throw new UsageError(`${TIMEOUT_ENV}=${JSON.stringify(seconds)} is not a positive number of seconds`);
  const idleMs = Math.max(1, Math.round(s * 1000));
  return { connectMs: Math.min(DEFAULT_TIMEOUTS.connectMs, idleMs), idleMs, deadlineMs: 4 * idleMs };
}

/**
 * resolveEndpoint picks the endpoint: the option, else AWS_ENDPOINT_URL_S3,
 * else AWS_ENDPOINT_URL (the SDK's own variables), else none (AWS itself).
 */
export function resolveEndpoint(endpoint?: string): string | undefined {
  return chooseEndpoint(endpoint)?.url;
}

/** An endpoint and where it was given, for messages: `--endpoint`, a config field, an environment variable. */
export interface ChosenEndpoint {
  url: string;
  from: string;
}

/**
 * chooseEndpoint is {@link resolveEndpoint} saying where the endpoint came
 * from: `from` names the option (default `endpoint`), or the environment
 * variable that gave it.
 */
export function chooseEndpoint(endpoint?: string, from = 'endpoint'): ChosenEndpoint | undefined {
  if (endpoint) return { url: endpoint, from };
  for (const name of ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'] as const) {
    const url = process.env[name];
    if (url) return { url, from: name };
  }
  return undefined;
}

/**
 * endpointProblem says why `url` cannot be an S3 endpoint, or undefined when
 * it can: it must be an absolute http(s) URL with a host. Checked when a
 * remote is opened, so that a typo is named as the option it came from rather
 * than surfacing from the first request as the SDK's "Invalid URL".
 */
export function endpointProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `has scheme ${u.protocol.slice(0, -1)}; only http and https are supported`;
  if (!u.hostname) return 'has no host';
  return undefined;
}

/**
 * connectS3 loads the SDK and builds a client. Credentials come from the SDK's
 * default chain (environment, then the profile in the shared files, SSO,
 * instance metadata...), resolved on the first request, not here.
 */
export async function connectS3(options: S3ClientOptions): Promise<S3Connection> {
  // The SDK warns on every run under Node < 22 that *future* SDK releases will
  // need it; cratesync supports Node 20, so that is noise for our users. An
  // explicit setting (e.g. =false to see it) is respected.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // require, not import(): the SDK is CommonJS, and importing it from ESM first
  // runs a lexer over every module to find its exports, a large share of the load time.
  const sdk = require('@aws-sdk/client-s3') as S3Sdk;
  const { NodeHttpHandler } = require('@smithy/node-http-handler') as typeof import('@smithy/node-http-handler');
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
  const endpoint = resolveEndpoint(options.endpoint);
  const client = new sdk.S3Client({
    region: options.region || process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
    // We send Content-MD5 ourselves and compare ETags; the SDK's default
    // CRC32 trailers would add aws-chunked encoding that many S3-compatible
    // servers reject.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Retries are ours (withRetry), at a level where a body can be re-read.
    maxAttempts: 1,
    // Resolve each command's middleware stack once, not on every request.
    cacheMiddleware: true,
    // AWS buckets answer from their own region; follow instead of failing.
    followRegionRedirects: true,
    // Without a logger the SDK writes some warnings straight to the console
    // ("An error was encountered in a non-retryable streaming request." on
    // every failed upload); failures reach the user through our errors instead.
    logger: SILENT,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      connectionTimeout: options.timeouts.connectMs,
      // Silence this long means a server that does not answer or a stalled
      // transfer: fail the request, so that it is retried (see S3Timeouts).
      socketTimeout: options.timeouts.idleMs,
      requestTimeout: options.timeouts.deadlineMs,
      throwOnRequestTimeout: true,
    }),
  });
  const onAnswer = options.onAnswer;
  if (onAnswer) {
    // Outermost in the deserialize step: sees every response, error statuses included.
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          const out = await next(args);
          onAnswer();
          return out;
        } catch (err) {
          if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined) onAnswer();
          throw err;
        }
      },
      { step: 'deserialize', priority: 'high', name: 'cratesyncAnswerWatch' },
    );
  }
  return { sdk, client };
}

const SILENT = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** describeEndpoint names the endpoint for messages, without any user:password part. */
export function describeEndpoint(endpoint: string | undefined): string {
  if (!endpoint) return 'AWS S3';
  try {
    const u = new URL(endpoint);
    u.username = '';
    u.password = '';
    return u.origin;
  } catch {
    return endpoint.replace(/\/\/[^@/]*@/, '//');
  }
}
