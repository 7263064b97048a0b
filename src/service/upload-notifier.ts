/**
 * The service's upload notifications, batched: a continuous sync uploads a
 * few files at a time, and a crew's channel should hear of them at most once
 * per interval. Paths wait here until the interval since the last
 * notification is over, then go out in one notification; a stop sends what
 * is pending.
 */

export interface UploadNotifierOptions {
  /** Sends one batch of library paths; a rejection is handed to onError. */
  send: (paths: string[]) => Promise<unknown>;
  onError: (err: unknown) => void;
  /** Least time between two notifications. */
  intervalMs: number;
  /** Timers and the clock (tests give their own). */
  setTimer?: (fn: () => void, ms: number) => { cancel(): void };
  now?: () => number;
}

const realTimer = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  // A pending notification never keeps the process alive: a stop flushes it.
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

export class UploadNotifier {
  /** Paths waiting, in the order they were uploaded, each once. */
  private readonly pending = new Set<string>();
  private lastSentAt = -Infinity;
  private timer: { cancel(): void } | undefined;
  private sending: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly o: UploadNotifierOptions) {}

  /** size is the count of paths waiting. */
  get size(): number {
    return this.pending.size;
  }

  /** add queues uploaded paths; they go out once the interval since the last notification is over. */
  add(paths: readonly string[]): void {
    if (this.closed || paths.length === 0) return;
    for (const p of paths) this.pending.add(p);
    this.schedule();
  }

  /** flush cancels the timer and sends what is pending now, then takes no more; resolves when sent (or failed). */
  async flush(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    await this.sending;
    await this.sendNow();
  }

  private schedule(): void {
    if (this.timer || this.sending || this.pending.size === 0) return;
    const now = this.o.now?.() ?? Date.now();
    const wait = Math.max(0, this.lastSentAt + this.o.intervalMs - now);
    this.timer = (this.o.setTimer ?? realTimer)(() => {
      this.timer = undefined;
      void this.sendNow();
    }, wait);
  }

  private async sendNow(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending.clear();
    this.lastSentAt = this.o.now?.() ?? Date.now();
    this.sending = this.o
      .send(batch)
      .then(
        () => {},
        (err: unknown) => this.o.onError(err),
      )
      .finally(() => {
        this.sending = undefined;
        if (!this.closed) this.schedule();
      });
    await this.sending;
  }
}
