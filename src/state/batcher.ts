/**
 * Batcher gathers writes for a few milliseconds and hands them over together,
 * so that they are committed in one SQLite transaction: a commit per file
 * would cost more than a small upload. Whatever a crash loses from the window
 * is state that the next run recomputes (a hash, a comparison), never data.
 */
export class Batcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly commit: (batch: T[]) => void,
    private readonly delayMs = 50,
    private readonly maxItems = 500,
  ) {}

  /** Queues `items`; they are committed within `delayMs`, or at once past `maxItems`. */
  add(...items: T[]): void {
    for (const i of items) this.pending.push(i);
    if (this.pending.length >= this.maxItems) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs).unref();
  }

  /** Commits what is pending now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.commit(batch);
  }
}
