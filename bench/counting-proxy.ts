/**
 * A counting HTTP reverse proxy between a tool and s3rver: it forwards every
 * request and response unchanged (Host header included; s3rver does not
 * check it) and tallies what the tool sent, so a scenario can say how many
 * audio bytes a push uploaded whatever the tool reports about itself.
 *
 * Requests are read path-style (`/<bucket>/<key>?<query>`), as all three
 * tools address a custom endpoint. Request bodies are counted as they arrive
 * (wire bytes, retries included), and sorted:
 * - object data: PUT to a key (PutObject, UploadPart) or a POST to a key
 *   that is neither a multipart start nor a completion (a browser-form
 *   upload), but never a server-side copy (`x-amz-copy-source`, which sends
 *   no data) — `audioBytes`, or `metaBytes` when the key is under the
 *   metadata prefix (cratesync's `<prefix>/.cratesync/`);
 * - everything else (multipart completion and multi-object delete XML,
 *   bucket creation) — `otherBytes`.
 * Object reads (GET to a key) under the metadata prefix are counted by the
 * two folders below it (`catalog/log`, `catalog/snap`): `metaReads`.
 * Listeners ({@link CountingProxy.onStored}) hear of each object outside the
 * metadata prefix the moment s3rver answers its upload (or server-side copy)
 * with success: from then on it is readable.
 */
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What crossed the proxy between two {@link CountingProxy.take} calls. */
export interface Traffic {
  requests: number;
  /** Requests by HTTP method. */
  methods: Record<string, number>;
  /** Body bytes of object data sent to keys outside the metadata prefix. */
  audioBytes: number;
  /** Body bytes of object data sent to keys under the metadata prefix. */
  metaBytes: number;
  /** Body bytes of every other request. */
  otherBytes: number;
  /** Distinct keys outside the metadata prefix that received object data (a multipart upload counts once). */
  objectsWritten: number;
  /** Server-side copies to keys outside the metadata prefix (CopyObject, UploadPartCopy). */
  copies: number;
  /** Server-side copies to keys under it (cratesync: into its trash). */
  metaCopies: number;
  /** Keys deleted: DELETE requests on keys plus the keys named in multi-object deletes. */
  deletes: number;
  /** GET requests on keys under the metadata prefix, by the two folders below it (e.g. `catalog/log`). */
  metaReads: Record<string, number>;
  /** Responses with a 5xx status from s3rver (the tool may have retried). */
  serverErrors: number;
  /** Requests the proxy could not forward (answered 502 or cut off; the tool may have retried). */
  proxyErrors: number;
}

export interface CountingProxy {
  /** `http://127.0.0.1:<port>`: give it to the tool as its endpoint. */
  endpoint: string;
  /** take returns the tally since the last take (or the start) and starts a new one. */
  take(): Traffic;
  /**
   * onStored calls `listener` with the key (relative to the bucket) of every
   * object outside the metadata prefix that s3rver has just stored: a 2xx
   * answer to a PutObject, a CopyObject or a multipart completion. Returns
   * the function that removes the listener.
   */
  onStored(listener: (bucket: string, key: string) => void): () => void;
  stop(): Promise<void>;
}

export interface CountingProxyOptions {
  /**
   * Keys (relative to the bucket) starting with this are metadata, not
   * audio: e.g. `dj/.cratesync/`.
   */
  metaPrefix: string;
}

/**
 * startCountingProxy listens on 127.0.0.1 (a free port) and forwards to
 * `target`. Every request is counted; none is changed.
 */
export async function startCountingProxy(target: string, o: CountingProxyOptions): Promise<CountingProxy> {
  const upstream = new URL(target);
  // Keep-alive to s3rver as the tools keep it to the proxy; Node honours the
  // server's `Keep-Alive: timeout=` hint, so an idle socket is dropped before s3rver drops it.
  const agent = new Agent({ keepAlive: true });
  let t = emptyTraffic();
  let written = new Set<string>();
  const storedListeners = new Set<(bucket: string, key: string) => void>();

  const server = createServer((req, res) => {
    const { bucket, key, query } = parseUrl(req.url ?? '/');
    const method = req.method ?? 'GET';
    const tally = t;
    const keys = written;
    tally.requests++;
    tally.methods[method] = (tally.methods[method] ?? 0) + 1;
    const meta = key !== '' && key.startsWith(o.metaPrefix);
    const copy = req.headers['x-amz-copy-source'] !== undefined;
    const data = key !== '' && !copy && (method === 'PUT' ? isDataPut(query) : method === 'POST' && !query.has('uploads') && !query.has('uploadId'));
    if (copy) {
      if (meta) tally.metaCopies++;
      else tally.copies++;
    }
    if (method === 'DELETE' && key !== '' && !query.has('uploadId')) tally.deletes++;
    if (method === 'GET' && meta) {
      const folder = key.slice(o.metaPrefix.length).split('/').slice(0, 2).join('/');
      tally.metaReads[folder] = (tally.metaReads[folder] ?? 0) + 1;
    }
    if (data && !meta) keys.add(key);
    // Uploads that leave a whole object behind (not a part of one).
    const stores = !meta && key !== '' && (method === 'PUT' ? !query.has('uploadId') && (data || copy) : method === 'POST' && query.has('uploadId'));
    const multiDelete = method === 'POST' && key === '' && query.has('delete');
    const deleteList: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      if (!data) tally.otherBytes += chunk.length;
      else if (meta) tally.metaBytes += chunk.length;
      else tally.audioBytes += chunk.length;
      if (multiDelete) deleteList.push(chunk);
    });
    if (multiDelete) {
      req.on('end', () => {
        tally.deletes += Buffer.concat(deleteList).toString('utf8').split('<Key>').length - 1;
      });
    }

    const headers = { ...req.headers };
    // Node has already answered `100-continue` to the tool; s3rver gets a plain request.
    delete headers.expect;
    const up = request({ host: upstream.hostname, port: upstream.port, method, path: req.url, headers, agent }, (upRes) => {
      const status = upRes.statusCode ?? 0;
      if (status >= 500) tally.serverErrors++;
      if (stores && status >= 200 && status < 300) for (const l of storedListeners) l(bucket, key);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => {
      tally.proxyErrors++;
      if (res.headersSent) res.destroy();
      else res.writeHead(502, { connection: 'close' }).end();
    });
    req.on('aborted', () => up.destroy());
    req.pipe(up);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    take() {
      const out = { ...t, objectsWritten: written.size };
      t = emptyTraffic();
      written = new Set();
      return out;
    },
    onStored(listener) {
      storedListeners.add(listener);
      return () => storedListeners.delete(listener);
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** parseUrl splits a path-style request target into its bucket, key (decoded, '' for the bucket itself) and query. */
function parseUrl(raw: string): { bucket: string; key: string; query: URLSearchParams } {
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const slash = path.indexOf('/', 1);
  const encodedKey = slash < 0 ? '' : path.slice(slash + 1);
  let key = encodedKey;
  try {
    key = decodeURIComponent(encodedKey);
  } catch {
    // Keep it encoded: it is still a key, only the metadata test may miss it.
  }
  const bucket = path.slice(1, slash < 0 ? undefined : slash);
  return { bucket, key, query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** Sub-resources a PUT to a key may set instead of sending object data. */
const OBJECT_SUBRESOURCES = ['acl', 'tagging', 'retention', 'legal-hold'];

/**
 * isDataPut: a PUT to a key sends object data (PutObject; UploadPart, with
 * partNumber and uploadId) unless it sets a sub-resource. Other query
 * parameters do not tell: the AWS SDK adds `x-id=PutObject` to every upload.
 */
function isDataPut(query: URLSearchParams): boolean {
  return !OBJECT_SUBRESOURCES.some((r) => query.has(r));
}

function emptyTraffic(): Traffic {
  return { requests: 0, methods: {}, audioBytes: 0, metaBytes: 0, otherBytes: 0, objectsWritten: 0, copies: 0, metaCopies: 0, deletes: 0, metaReads: {}, serverErrors: 0, proxyErrors: 0 };
}
