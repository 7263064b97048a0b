/**
 * The remote mirror: a local copy of a remote's `music/` listing, rebuilt by
 * every full listing and kept current with this machine's own writes. It is
 * trusted instead of a listing only while it is complete for the remote's
 * current generation marker (see sync/generation.ts); anything else means a
 * full listing.
 */
import type Database from 'better-sqlite3';
import type { Db } from './state-db.js';
import type { RemoteObject } from '../remote/remote.js';
import { Batcher } from './batcher.js';

export interface MirrorState {
  /** Generation the mirror is complete for, if it is. */
  generation?: string;
  /** When the last full listing rebuilt it (ms since the epoch). */
  listedAt?: number;
}

interface Row {
  key: string;
  size: number;
  etag: string | null;
  mtime_ms: number | null;
}

type Write = { put: RemoteObject } | { remove: string };

export class RemoteMirror {
  private readonly upsert: Database.Statement;
  private readonly del: Database.Statement;
  private readonly writes = new Batcher<Write>((batch) => this.commit(batch));

  constructor(
    private readonly db: Db,
    readonly remote: string,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO remote_objects (remote, key, size, etag, mtime_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(remote, key) DO UPDATE SET size = excluded.size, etag = excluded.etag, mtime_ms = excluded.mtime_ms`,
    );
    this.del = db.prepare('DELETE FROM remote_objects WHERE remote = ? AND key = ?');
  }

  state(): MirrorState {
    const r = this.db.prepare('SELECT generation, listed_at FROM remotes WHERE remote = ?').get(this.remote) as
      | { generation: string | null; listed_at: number | null }
      | undefined;
    return { ...(r?.generation ? { generation: r.generation } : {}), ...(r?.listed_at ? { listedAt: r.listed_at } : {}) };
  }

  /** Marks the mirror complete for `generation` (or, with undefined, not complete). */
  setState(s: MirrorState): void {
    this.flush();
    this.db
      .prepare(
        `INSERT INTO remotes (remote, generation, listed_at) VALUES (?, ?, ?)
         ON CONFLICT(remote) DO UPDATE SET generation = excluded.generation, listed_at = excluded.listed_at`,
      )
      .run(this.remote, s.generation ?? null, s.listedAt ?? null);
  }

  /** The mirrored objects. */
  *objects(): Iterable<RemoteObject> {
    this.flush();
    const rows = this.db.prepare('SELECT key, size, etag, mtime_ms FROM remote_objects WHERE remote = ?').iterate(this.remote) as Iterable<Row>;
    for (const r of rows) {
      yield { key: r.key, size: r.size, ...(r.etag ? { etag: r.etag } : {}), ...(r.mtime_ms !== null ? { mtime: new Date(r.mtime_ms) } : {}) };
    }
  }

  /** Replaces the whole mirror with what a full listing saw. */
  replaceAll(objects: Iterable<RemoteObject>): void {
    this.flush();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM remote_objects WHERE remote = ?').run(this.remote);
      for (const o of objects) this.upsert.run(this.remote, o.key, o.size, o.etag ?? null, o.mtime?.getTime() ?? null);
    })();
  }

  /** Records an object this machine wrote. */
  put(o: RemoteObject): void {
    this.writes.add({ put: o });
  }

  /** Records that `key` is gone, or that its state is unknown (a failed write). */
  remove(key: string): void {
    this.writes.add({ remove: key });
  }

  flush(): void {
    this.writes.flush();
  }

  private commit(batch: Write[]): void {
    this.db.transaction(() => {
      for (const w of batch) {
        if ('remove' in w) this.del.run(this.remote, w.remove);
        else this.upsert.run(this.remote, w.put.key, w.put.size, w.put.etag ?? null, w.put.mtime?.getTime() ?? null);
      }
    })();
  }
}
