/**
 * ByteBudget: a counting semaphore over bytes. The S3 remote holds one and
 * every multipart part buffer is paid for from it before it is read, so the
 * memory held by part buffers stays under a fixed bound however many files
 * are uploaded at once.
 */
export class ByteBudget {
  private available: number;
  private readonly waiters: Array<{ bytes: number; grant: () => void }> = [];

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`byte budget must be positive, got ${capacity}`);
    this.available = capacity;
  }

  /** Bytes currently handed out. */
  get inUse(): number {
    return this.capacity - this.available;
  }

  /** Requests waiting for bytes to be given back. */
  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * acquire waits until `bytes` are free and takes them; the returned function
   * gives them back (calling it again does nothing). A request above the
   * capacity is clamped to it, so it waits for the whole budget instead of
   * waiting forever. Waiters are served first come first served, so a big
   * request is not starved by a stream of small ones. An abort while waiting
   * rejects with the signal's reason.
   */
  acquire(bytes: number, signal?: AbortSignal): Promise<() => void> {
    const want = Math.min(Math.max(0, bytes), this.capacity);
    signal?.throwIfAborted();
    if (this.waiters.length === 0 && want <= this.available) {
      this.available -= want;
      return Promise.resolve(this.releaser(want));
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        bytes: want,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.releaser(want));
        },
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        this.pump(); // the head may have been what blocked smaller requests behind it
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private releaser(bytes: number): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.available += bytes;
      this.pump();
    };
  }

  private pump(): void {
    for (let head = this.waiters[0]; head && head.bytes <= this.available; head = this.waiters[0]) {
      this.waiters.shift();
      this.available -= head.bytes;
      head.grant();
    }
  }
}
