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
 * A rule applies to the first `times` matching requests, then no more. All
 * requests are logged in `requests` (method and percent-decoded URL).
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';

export type FaultAction = 'reset-mid-body' | 'status-503' | 'corrupt-body';

export interface FaultRule {
  /** HTTP method to match; any when absent. */
  method?: string;
  /** Substring of the decoded URL (path and query) to match. */
  pathIncludes: string;
  action: FaultAction;
  /** How many more matching requests get the fault. */
  times: number;
}

export interface FaultProxy {
  endpoint: string;
  rules: FaultRule[];
  requests: Array<{ method: string; path: string }>;
  stop(): Promise<void>;
}

const SLOW_DOWN = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const rules: FaultRule[] = [];
  const requests: Array<{ method: string; path: string }> = [];

  const forward = (req: IncomingMessage, res: ServerResponse, corruptAt?: number) => {
    const headers = { ...req.headers, host: upstream.host };
    // The proxy has already answered 100-continue to the client; upstream gets a plain request.
    delete headers.expect;
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
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
    requests.push({ method, path });
    const rule = rules.find((r) => r.times > 0 && (!r.method || r.method === method) && path.includes(r.pathIncludes));
    if (rule) rule.times--;
    const length = Number(req.headers['content-length'] ?? 0);
    switch (rule?.action) {
      case 'status-503':
        req.resume();
        req.on('end', () => {
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
      case 'corrupt-body':
        return forward(req, res, Math.floor(length / 2));
      default:
        return forward(req, res);
    }
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    rules,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
