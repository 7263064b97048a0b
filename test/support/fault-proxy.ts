/**
 * A fault-injecting HTTP reverse proxy for S3 tests. It forwards every
 * request to `target` (s3rver) unchanged, except those matched by a rule:
 *
 * - `reset-mid-body`: destroys the client's socket once about half of the
 *   request body has arrived (a dropped connection mid-upload);
 * - `status-503`: reads the body and answers an S3 `SlowDown` error;
 * - `corrupt-body`: flips one byte in the middle of the request body and
 *   forwards it. The SDK signs file streams as UNSIGNED-PAYLOAD and buffers
 *   (parts) with their SHA-256, but s3rver checks neither payload hashes nor
 *   Content-MD5, so the corrupted bytes are stored, and it is the remote's
 *   ETag check that must catch them (AWS itself would answer BadDigest).
 *
 * - `hang`: reads the body and never answers (until the client goes away):
 *   an upload stuck in flight, e.g. to kill the client while it waits;
 * - `stall-mid-response`: forwards the request, then sends the client the
 *   answer's headers and about half of its body, and nothing more (until the
 *   client goes away): a download stuck halfway;
 * - `hold`: keeps the request (body unread) until `release()` forwards it
 *   unchanged: a request overtaken by others sent after it.
 *
 * A rule applies to the first `times` matching requests, then no more. All
 * requests are logged in `requests`: method and percent-decoded URL, the
 * request-body bytes received so far (final once the body has ended), whether
 * it was a server-side copy (an `x-amz-copy-source` header), and the status
 * answered once known.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';

export type FaultAction = 'reset-mid-body' | 'status-503' | 'corrupt-body' | 'hang' | 'stall-mid-response' | 'hold';

export interface FaultRule {
  /** HTTP method to match; any when absent. */
  method?: string;
  /** Substring of the decoded URL (path and query) to match. */
  pathIncludes: string;
  action: FaultAction;
  /** How many more matching requests get the fault. */
  times: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  /** Request-body bytes received from the client (complete once it ended). */
  bytes: number;
  /** The request carried an `x-amz-copy-source` header (a server-side copy: no body). */
  copySource: boolean;
  /** HTTP status answered to the client, once answered. */
  status?: number;
}

export interface FaultProxy {
  endpoint: string;
  rules: FaultRule[];
  requests: ProxiedRequest[];
  /** Forwards the requests held by `hold` rules so far; returns how many. */
  release(): number;
  stop(): Promise<void>;
}

const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const rules: FaultRule[] = [];
  const requests: ProxiedRequest[] = [];
  const held: Array<() => void> = [];

  const forward = (req: IncomingMessage, res: ServerResponse, log: ProxiedRequest, corruptAt?: number, stall = false) => {
    const headers = { ...req.headers, host: upstream.host };
    // The proxy has already answered 100-continue to the client; upstream gets a plain request.
    delete headers.expect;
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (upRes) => {
        log.status = upRes.statusCode ?? 502;
        res.writeHead(log.status, upRes.headers);
        if (!stall) return void upRes.pipe(res);
        const half = Math.floor(Number(upRes.headers['content-length'] ?? 0) / 2);
        let sent = 0;
        upRes.on('data', (chunk: Buffer) => {
          const room = Math.max(0, half - sent);
          if (room > 0) res.write(chunk.subarray(0, room));
          sent += chunk.length;
        });
      },
    );
    up.on('error', () => res.destroy());
    req.on('aborted', () => up.destroy());
    let offset = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _enc, done) {
        if (corruptAt !== undefined && corruptAt >= offset && corruptAt < offset + chunk.length) {
          chunk = Buffer.from(chunk);
          chunk[corruptAt - offset] = (chunk[corruptAt - offset] ?? 0) ^ 0xff;
        }
        offset += chunk.length;
        done(null, chunk);
      },
    });
    req.pipe(tap).pipe(up);
  };

  const server = createServer((req, res) => {
    const raw = req.url ?? '/';
    let path = raw;
    try {
      path = decodeURIComponent(raw);
    } catch {
      // keep it raw
    }
    const method = req.method ?? 'GET';
    const log: ProxiedRequest = { method, path, bytes: 0, copySource: req.headers['x-amz-copy-source'] !== undefined };
    requests.push(log);
    const rule = rules.find((r) => r.times > 0 && (!r.method || r.method === method) && path.includes(r.pathIncludes));
    if (rule) rule.times--;
    const length = Number(req.headers['content-length'] ?? 0);
    if (rule?.action === 'hold') {
      // The body stays unread (and uncounted) until released.
      held.push(() => {
        req.on('data', (chunk: Buffer) => (log.bytes += chunk.length));
        forward(req, res, log);
      });
      return;
    }
    req.on('data', (chunk: Buffer) => (log.bytes += chunk.length));
    switch (rule?.action) {
      case 'status-503':
        req.resume();
        req.on('end', () => {
          log.status = 503;
          res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(SLOW_DOWN) });
          res.end(SLOW_DOWN);
        });
        return;
      case 'reset-mid-body': {
        let seen = 0;
        if (length === 0) return void req.socket.destroy();
        req.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen >= length / 2) req.socket.destroy();
        });
        return;
      }
      case 'hang':
        req.resume();
        return;
      case 'corrupt-body':
        return forward(req, res, log, Math.floor(length / 2));
      case 'stall-mid-response':
        return forward(req, res, log, undefined, true);
      default:
        return forward(req, res, log);
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    rules,
    requests,
    release() {
      const n = held.length;
      for (const go of held.splice(0)) go();
      return n;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
