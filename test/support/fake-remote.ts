/**
 * FakeRemote: an in-memory Remote for in-process engine tests. It keeps the
 * contract of src/remote/remote.ts (verified transfers, NotFoundError,
 * progress deltas taken back on failure, listing by prefix and startAfter,
 * name rules like S3's) and passes the shared conformance suite, so what a
 * test learns through it holds for the real remotes.
 *
 * On top of the contract a test can:
 * - count calls per method (`calls`, and `log` of every call in order);
 * - inject failures: `fail('put', err, { key, times })` makes the next
 *   matching calls throw `err` (a TransientError the engine retries, an
 *   AccessDeniedError that stops a run…);
 * - hold operations: `hold('put')` makes every matching call wait, after it
 *   has reported part of its bytes, until `release()` or until the call's
 *   signal aborts (then it rejects with the signal's reason and takes its
 *   progress back); `whenHeld(n)` resolves once `n` calls are waiting.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { AccessDeniedError, ChecksumError, FileError, NotFoundError, PreconditionError } from '../../src/errors.js';
import type { RemoteObject } from '../../src/core/remote-object.js';
import type { CopyOptions, ListOptions, NameRules, PutBody, Remote, TransferOptions, TransferResult } from '../../src/remote/remote.js';
import { Progress } from '../../src/remote/local-io.js';

export type FakeMethod = 'list' | 'read' | 'stat' | 'put' | 'get' | 'delete' | 'copy' | 'move';

export interface FakeRemoteOptions {
  /** URL the remote reports; default `fake://<n>`. */
  url?: string;
  /** Offer server-side copy (default true). */
  copy?: boolean;
  /** Offer server-side move (default true). */
  move?: boolean;
}

interface Stored {
  data: Buffer;
  md5: string;
  mtime: Date;
}

/** Which keys a failure or hold applies to: one key, or those a test picks. */
export type KeyMatch = string | ((key: string) => boolean);

interface Injected {
  method: FakeMethod;
  key?: KeyMatch;
  error: unknown;
  times: number;
}

interface Hold {
  method: FakeMethod;
  key?: KeyMatch;
}

const matches = (m: KeyMatch | undefined, key: string) => m === undefined || (typeof m === 'string' ? m === key : m(key));

/** Progress is reported in chunks of this size, as a streamed transfer would. */
const CHUNK = 64 * 1024;
const MAX_KEY_BYTES = 1024;
let made = 0;

const md5Of = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export class FakeRemote implements Remote {
  readonly kind = 's3' as const;
  readonly url: string;
  readonly names: NameRules = { check: checkKey };
  /** Server-side copy; absent when the remote was made without it. */
  readonly copy?: (from: string, to: string, options?: CopyOptions) => Promise<RemoteObject>;
  /** Server-side move; absent when the remote was made without it. */
  readonly move?: (from: string, to: string, options?: CopyOptions) => Promise<RemoteObject>;

  /** Calls made so far, per method (a call counts when it starts, failed or not). */
  readonly calls: Record<FakeMethod, number> = { list: 0, read: 0, stat: 0, put: 0, get: 0, delete: 0, copy: 0, move: 0 };
  /** Every call in order: method and key (the prefix for list, `from` for copy and move). */
  readonly log: Array<{ method: FakeMethod; key: string }> = [];
  /** Heard at the start of every call, before any injected failure or hold. */
  onCall?: (method: FakeMethod, key: string) => void;

  private readonly objects = new Map<string, Stored>();
  private readonly injected: Injected[] = [];
  private readonly holds: Hold[] = [];
  private readonly waiting = new Set<() => void>();
  private readonly heldWatchers: Array<{ n: number; resolve: () => void }> = [];
  private closed = false;

  constructor(options: FakeRemoteOptions = {}) {
    this.url = options.url ?? `fake://remote-${++made}`;
    if (options.copy !== false) this.copy = (from, to) => this.copyObject(from, to);
    if (options.move !== false) {
      this.move = async (from, to) => {
        const obj = await this.copyObject(from, to, 'move');
        this.objects.delete(from);
        return obj;
      };
    }
  }

  // ---- test controls ----

  /**
   * fail makes the next `times` (default 1) calls of `method` (on `key`, when
   * given) throw `error` instead of doing anything.
   */
  fail(method: FakeMethod, error: unknown, o: { key?: KeyMatch; times?: number } = {}): void {
    this.injected.push({ method, error, times: o.times ?? 1, ...(o.key !== undefined ? { key: o.key } : {}) });
  }

  /** failNext is fail for one call. */
  failNext(method: FakeMethod, key: string | undefined, error: unknown): void {
    this.fail(method, error, key === undefined ? {} : { key });
  }

  /** hold makes every later call of `method` (on `key`, when given) wait until release() or its signal aborts. */
  hold(method: FakeMethod, key?: KeyMatch): void {
    this.holds.push({ method, ...(key !== undefined ? { key } : {}) });
  }

  /** release lets every held call go on and stops holding new ones. */
  release(): void {
    this.holds.length = 0;
    for (const go of [...this.waiting]) go();
  }

  /** Calls waiting in a hold now. */
  get held(): number {
    return this.waiting.size;
  }

  /** whenHeld resolves once at least `n` calls are waiting in a hold. */
  whenHeld(n = 1): Promise<void> {
    if (this.waiting.size >= n) return Promise.resolve();
    return new Promise((resolve) => this.heldWatchers.push({ n, resolve }));
  }

  /** Keys stored now, sorted by UTF-8 bytes. */
  /** plant stores `data` at `key` as another writer would, past every hold and failure. */
  plant(key: string, data: Uint8Array): void {
    const buf = Buffer.from(data);
    const md5 = md5Of(buf);
    this.objects.set(key, { data: buf, md5, mtime: new Date() });
  }

  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(byBytes);
  }

  /** The bytes stored at `key`, or undefined. */
  bytes(key: string): Buffer | undefined {
    return this.objects.get(key)?.data;
  }

  /** resetCounts zeroes `calls` and empties `log`. */
  resetCounts(): void {
    for (const m of Object.keys(this.calls) as FakeMethod[]) this.calls[m] = 0;
    this.log.length = 0;
  }

  // ---- Remote ----

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<RemoteObject> {
    await this.enter('list', prefix, options.signal);
    // A snapshot, as a paged listing sees roughly the state at its start.
    const keys = this.keys(prefix).filter((k) => options.startAfter === undefined || byBytes(k, options.startAfter) > 0);
    for (const key of keys) {
      options.signal?.throwIfAborted();
      const o = this.objects.get(key);
      if (o) yield this.describe(key, o);
    }
  }

  async read(key: string, options: { signal?: AbortSignal } = {}): Promise<Buffer> {
    await this.enter('read', key, options.signal);
    return Buffer.from(this.must(key).data);
  }

  async stat(key: string): Promise<RemoteObject> {
    await this.enter('stat', key);
    return this.describe(key, this.must(key));
  }

  async put(key: string, body: PutBody, options: TransferOptions = {}): Promise<TransferResult> {
    const progress = new Progress(options.onProgress);
    try {
      await this.enter('put', key, options.signal, false);
      const reason = checkKey(key);
      if (reason) throw new FileError(key, reason);
      let data: Buffer;
      try {
        data = 'data' in body ? Buffer.from(body.data) : await readFile(body.path);
      } catch (err) {
        throw new FileError('path' in body ? body.path : key, (err as Error).message, { cause: err });
      }
      await this.moveBytes('put', key, data.length, progress, options.signal);
      // As a real remote streams the file, it sees one that changed while it was sent: nothing is stored.
      if ('path' in body) {
        const now = await stat(body.path).catch(() => undefined);
        if (now?.size !== data.length) throw new FileError(body.path, 'changed while it was sent; nothing stored');
      }
      const md5 = md5Of(data);
      if (options.expectMd5 && md5 !== options.expectMd5.toLowerCase()) {
        throw new ChecksumError(`${this.url}/${key}: sent bytes with MD5 ${md5}, expected ${options.expectMd5}`);
      }
      if (options.ifAbsent && this.objects.has(key)) throw new PreconditionError(`${this.url}/${key}: another writer stored this key meanwhile`);
      this.objects.set(key, { data, md5, mtime: new Date() });
      return { size: data.length, md5, etag: md5 };
    } catch (err) {
      progress.rollback();
      throw err;
    }
  }

  async get(key: string, dest: string, options: TransferOptions = {}): Promise<TransferResult> {
    const progress = new Progress(options.onProgress);
    try {
      await this.enter('get', key, options.signal, false);
      const o = this.must(key);
      await this.moveBytes('get', key, o.data.length, progress, options.signal);
      try {
        await writeFile(dest, o.data);
      } catch (err) {
        throw new FileError(dest, (err as Error).message, { cause: err });
      }
      const md5 = md5Of(o.data);
      const want = options.expectMd5?.toLowerCase() ?? o.md5;
      if (md5 !== want) throw new ChecksumError(`${this.url}/${key}: received bytes with MD5 ${md5}, expected ${want}`);
      return { size: o.data.length, md5, etag: o.md5 };
    } catch (err) {
      await rm(dest, { force: true }).catch(() => {});
      progress.rollback();
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.enter('delete', key);
    this.objects.delete(key);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  // ---- inside ----

  private async copyObject(from: string, to: string, method: 'copy' | 'move' = 'copy'): Promise<RemoteObject> {
    await this.enter(method, from);
    const reason = checkKey(to);
    if (reason) throw new FileError(to, reason);
    const o = this.must(from);
    const copied = { data: o.data, md5: o.md5, mtime: new Date() };
    this.objects.set(to, copied);
    return this.describe(to, copied);
  }

  /**
   * enter counts a call, throws an injected failure, and (unless `holdLater`:
   * transfers hold once part of their bytes have moved) waits in a hold.
   */
  private async enter(method: FakeMethod, key: string, signal?: AbortSignal, holdNow = true): Promise<void> {
    if (this.closed) throw new Error(`${this.url}: used after close`);
    this.calls[method]++;
    this.log.push({ method, key });
    this.onCall?.(method, key);
    signal?.throwIfAborted();
    const i = this.injected.findIndex((f) => f.method === method && matches(f.key, key));
    const f = this.injected[i];
    if (f) {
      if (--f.times <= 0) this.injected.splice(i, 1);
      throw f.error;
    }
    if (holdNow) await this.maybeHold(method, key, signal);
  }

  /** moveBytes reports `size` bytes in chunks, holding (when asked) once half of them have moved. */
  private async moveBytes(method: FakeMethod, key: string, size: number, progress: Progress, signal?: AbortSignal): Promise<void> {
    const half = Math.floor(size / 2);
    for (let at = 0; at < half; at += CHUNK) progress.add(Math.min(CHUNK, half - at));
    await this.maybeHold(method, key, signal);
    signal?.throwIfAborted();
    for (let at = half; at < size; at += CHUNK) progress.add(Math.min(CHUNK, size - at));
  }

  private async maybeHold(method: FakeMethod, key: string, signal?: AbortSignal): Promise<void> {
    if (!this.holds.some((h) => h.method === method && matches(h.key, key))) return;
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.waiting.delete(go);
        signal?.removeEventListener('abort', onAbort);
      };
      const go = () => {
        done();
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal?.reason);
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.add(go);
      for (let i = this.heldWatchers.length - 1; i >= 0; i--) {
        const w = this.heldWatchers[i];
        if (w && this.waiting.size >= w.n) {
          this.heldWatchers.splice(i, 1);
          w.resolve();
        }
      }
    });
  }

  private must(key: string): Stored {
    const o = this.objects.get(key);
    if (!o) throw new NotFoundError(key);
    return o;
  }

  private describe(key: string, o: Stored): RemoteObject {
    return { key, size: o.data.length, etag: o.md5, mtime: o.mtime };
  }
}

/** checkKey: the S3 rules (see s3-names.ts), for a remote without a prefix. */
function checkKey(key: string): string | undefined {
  if (key === '') return 'the name is empty';
  if (key.endsWith('/')) return "the name ends with '/'";
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'the name contains a control character';
  const bytes = Buffer.byteLength(key);
  if (bytes > MAX_KEY_BYTES) return `the key is ${bytes} bytes long; the remote allows ${MAX_KEY_BYTES}`;
  return undefined;
}

/** accessDenied makes the error a remote throws when the whole remote refuses the caller. */
export function accessDenied(what = 'fake remote'): AccessDeniedError {
  return new AccessDeniedError(`${what}: access denied`);
}
