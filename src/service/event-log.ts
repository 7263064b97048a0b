/**
 * The service's recent events, numbered: what the control API hands out by
 * long-poll (`?since=N`, as Syncthing's /rest/events) and by Server-Sent
 * Events. A bounded ring: past `capacity` the oldest are dropped, so a client
 * that fell far behind sees a gap in the ids rather than the service growing.
 */
import type { ServiceEvent, ServiceEventBody } from './service-events.js';

export class EventLog {
  private readonly buf: ServiceEvent[] = [];
  private last = 0;
  private readonly subscribers = new Set<(e: ServiceEvent) => void>();

  constructor(private readonly capacity = 5000) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`EventLog capacity must be a positive integer, got ${capacity}`);
  }

  /** emit numbers `body` (ids 1, 2, 3…), stamps it with the time, keeps it and hands it to every subscriber. */
  emit(body: ServiceEventBody): ServiceEvent {
    const e = { ...body, id: ++this.last, at: Date.now() } as ServiceEvent;
    this.buf.push(e);
    if (this.buf.length > this.capacity) this.buf.splice(0, this.buf.length - this.capacity);
    for (const fn of [...this.subscribers]) {
      try {
        fn(e);
      } catch {
        // One client's failure must not stop the others or the service.
      }
    }
    return e;
  }

  /** The id of the newest event, 0 before the first. */
  get lastId(): number {
    return this.last;
  }

  /** Events with id > since still held (older ones dropped when over capacity), optionally of some types. */
  since(since: number, types?: ReadonlySet<string>): ServiceEvent[] {
    if (since >= this.last) return [];
    // Ids are consecutive, so the first one wanted sits at a known offset.
    const first = this.buf[0]?.id ?? this.last + 1;
    const from = Math.max(0, Math.floor(since) + 1 - first);
    const out = this.buf.slice(from);
    return types && types.size > 0 ? out.filter((e) => types.has(e.type)) : out;
  }

  /** Resolves with since(...) as soon as it is non-empty, or [] after timeoutMs or when signal aborts. */
  wait(since: number, timeoutMs: number, signal?: AbortSignal, types?: ReadonlySet<string>): Promise<ServiceEvent[]> {
    const now = this.since(since, types);
    if (now.length > 0 || signal?.aborted || timeoutMs <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (events: ServiceEvent[]) => {
        clearTimeout(timer);
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve(events);
      };
      const onAbort = () => done([]);
      const timer = setTimeout(() => done([]), timeoutMs);
      const unsubscribe = this.subscribe(() => {
        const events = this.since(since, types);
        if (events.length > 0) done(events);
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Calls fn for each new event until the returned function is called (for SSE). */
  subscribe(fn: (e: ServiceEvent) => void): () => void {
    this.subscribers.add(fn);
    return () => {
      this.subscribers.delete(fn);
    };
  }
}
