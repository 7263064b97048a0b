/**
 * LibraryFeed: what the watcher reports, fed to the service's aggregator. It
 * sets the watcher up (again, when the library folder comes back), drops the
 * service's own writes, and asks for a full rescan when the watcher lost
 * events or a flood of them may have overflowed the kernel's queue.
 */
import type { Logger } from 'pino';
import type { ChangeAggregator } from './change-aggregator.js';
import type { OwnWrites } from './own-writes.js';
import type { WatchChange, WatcherState } from './library-watcher.js';
import { watchLibrary } from './library-watcher.js';
import { describe } from '../errors.js';

/**
 * Events in one second past which the kernel's event queue may have
 * overflowed (Linux's default fs.inotify.max_queued_events is 16384, and
 * @parcel/watcher drops an overflow silently).
 */
const OVERFLOW_RISK = 8192;

export interface WatcherStatus {
  state: WatcherState;
  warning?: string;
}

export interface FeedOptions {
  root: string;
  aggregator: ChangeAggregator;
  own: OwnWrites;
  log: Logger;
  /** Something new is in the aggregator. */
  onChange(): void;
  /** A full rescan is needed. */
  onRescan(): void;
  /** The watcher's state changed. */
  onWatcher(w: WatcherStatus): void;
  /** The watcher (tests may give another). */
  watch?: typeof watchLibrary;
}

export class LibraryFeed {
  private watcher: { close(): Promise<void> } | undefined;
  private current: WatcherStatus = { state: 'off' };
  private flood = { since: 0, n: 0 };

  constructor(private readonly o: FeedOptions) {}

  get status(): WatcherStatus {
    return { ...this.current };
  }

  /** subscribe (re)starts watching the library folder; never throws: a folder that cannot be watched is polled. */
  async subscribe(): Promise<void> {
    await this.close();
    const { log } = this.o;
    const watch = this.o.watch ?? watchLibrary;
    try {
      this.watcher = await watch(
        this.o.root,
        {
          changes: (batch: readonly WatchChange[]) => {
            this.o.aggregator.add(batch);
            if (this.floodCount(batch.length) > OVERFLOW_RISK) {
              this.flood.n = Number.NEGATIVE_INFINITY; // said once per flood
              log.warn('a flood of changes may have overflowed the watcher: full rescan');
              this.o.onRescan();
            }
            this.o.onChange();
          },
          rescan: (reason: string) => {
            log.warn({ reason }, 'the watcher lost events: full rescan');
            this.o.onRescan();
          },
          warn: (message: string, state: WatcherState) => {
            log.warn(message);
            this.set({ state, warning: message });
          },
        },
        { ignore: (p: string) => this.o.own.ignores(p) },
      );
      if (this.current.state === 'off') this.set({ state: 'watching' });
    } catch (err) {
      const warning = `the library folder cannot be watched (${describe(err)}): it is rescanned every minute instead`;
      log.warn(warning);
      this.set({ state: 'polling', warning });
    }
  }

  async close(): Promise<void> {
    const w = this.watcher;
    this.watcher = undefined;
    await w?.close().catch(() => {});
  }

  /** floodCount adds `n` events to the count of the current second and returns it. */
  private floodCount(n: number): number {
    const now = Date.now();
    if (now - this.flood.since > 1000) this.flood = { since: now, n: 0 };
    this.flood.n += n;
    return this.flood.n;
  }

  private set(w: WatcherStatus): void {
    this.current = w;
    this.o.onWatcher(w);
  }
}
