/**
 * The media player of the players scenario (bench/players.ts), in a worker
 * thread: its own better-sqlite3 connection to the Strawberry database, with
 * Strawberry's busy timeout, making Strawberry's writes while cratesync's
 * service works on the same file. A thread of its own, because a write that
 * waits on a lock blocks its thread (as it blocks Strawberry's): the bench's
 * clocks and polls go on meanwhile.
 *
 * Two kinds of writes, each timed from its start to its commit:
 * - play counts, one every `intervalMs` once started, each on a song drawn
 *   (seeded) from the database: the single UPDATE a player makes when a
 *   song has been played;
 * - saves on request: a song's rating set by Strawberry's full-row save (in
 *   one transaction: the row read, then every column written back).
 * A write that fails with SQLITE_BUSY or SQLITE_LOCKED is counted, not
 * retried: the player would have lost it.
 *
 * `split` answers what was measured so far and starts counting afresh (the
 * writes go on); `stop` answers the same and ends the thread.
 *
 * Messages in: {@link PlayerCommand}; out: {@link PlayerReply}.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

export interface PlayerWorkerData {
  db: string;
  busyTimeoutMs: number;
  intervalMs: number;
  seed: number;
}

export type PlayerCommand = { type: 'start' } | { type: 'save'; id: number; rowid: number; rating: number } | { type: 'split' } | { type: 'stop' };

/** What the player's writes measured since it started or since the last split. */
export interface PlayerStats {
  playCounts: number;
  saves: number;
  /** Every write's time from its start to its commit (or failure), in order. */
  writeMs: number[];
  busy: number;
  errorCount: number;
  /** The first few errors other than SQLITE_BUSY and SQLITE_LOCKED. */
  errors: string[];
}

export type PlayerReply =
  | { type: 'ready'; songs: number }
  | { type: 'saved'; id: number; ok: boolean; committedAt: number; ms: number; error?: string }
  | ({ type: 'split' } & PlayerStats)
  | ({ type: 'stopped' } & PlayerStats);

/** now is the time in ms since the epoch with sub-ms precision, comparable across threads. */
export const now = (): number => performance.timeOrigin + performance.now();

function main(port: NonNullable<typeof parentPort>, data: PlayerWorkerData): void {
  const db = new Database(data.db);
  db.pragma(`busy_timeout = ${data.busyTimeoutMs}`);
  const rowids = (db.prepare('SELECT ROWID AS id FROM songs').all() as Array<{ id: number }>).map((r) => r.id);
  const columns = (db.prepare('PRAGMA table_info(songs)').all() as Array<{ name: string }>).map((c) => c.name);
  const playCount = db.prepare('UPDATE songs SET playcount = playcount + 1, lastplayed = ? WHERE ROWID = ?');
  const read = db.prepare('SELECT * FROM songs WHERE ROWID = ?');
  const write = db.prepare(`UPDATE songs SET ${columns.map((c) => `${c} = @${c}`).join(', ')} WHERE ROWID = @rowid__`);
  const save = db.transaction((rowid: number, rating: number) => {
    const row = read.get(rowid) as Record<string, unknown> | undefined;
    if (!row) throw new Error(`no song of ROWID ${rowid}`);
    write.run({ ...row, rating, rowid__: rowid });
  });

  let writeMs: number[] = [];
  let errors: string[] = [];
  let busy = 0;
  let errorCount = 0;
  let playCounts = 0;
  let saves = 0;
  /** taken returns what was measured since the last call and starts afresh. */
  const taken = (): PlayerStats => {
    const out = { playCounts, saves, writeMs, busy, errorCount, errors };
    writeMs = [];
    errors = [];
    busy = errorCount = playCounts = saves = 0;
    return out;
  };
  let random = data.seed >>> 0 || 1;
  const draw = (n: number): number => {
    // xorshift32: the same songs on every run of the same seed.
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return (random >>> 0) % n;
  };
  /** timed runs one write; returns whether it committed. */
  const timed = (fn: () => void): { ok: boolean; error?: string } => {
    const t0 = performance.now();
    try {
      fn();
      writeMs.push(performance.now() - t0);
      return { ok: true };
    } catch (err) {
      writeMs.push(performance.now() - t0);
      const code = String((err as { code?: unknown }).code ?? '');
      const error = `${code || 'error'}: ${(err as Error).message}`;
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) busy++;
      else if (errorCount++ < 5) errors.push(error);
      return { ok: false, error };
    }
  };

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped || rowids.length === 0) return;
    const rowid = rowids[draw(rowids.length)]!;
    // Strawberry keeps lastplayed in seconds.
    timed(() => playCount.run(Math.floor(Date.now() / 1000), rowid));
    playCounts++;
    timer = setTimeout(tick, data.intervalMs);
  };

  port.on('message', (m: PlayerCommand) => {
    if (m.type === 'start') {
      if (!timer && !stopped) timer = setTimeout(tick, data.intervalMs);
    } else if (m.type === 'save') {
      const r = timed(() => save(m.rowid, m.rating));
      saves++;
      const ms = writeMs[writeMs.length - 1] ?? 0;
      port.postMessage({ type: 'saved', id: m.id, ok: r.ok, committedAt: now(), ms, ...(r.error ? { error: r.error } : {}) } satisfies PlayerReply);
    } else if (m.type === 'split') {
      port.postMessage({ type: 'split', ...taken() } satisfies PlayerReply);
    } else {
      stopped = true;
      clearTimeout(timer);
      db.close();
      port.postMessage({ type: 'stopped', ...taken() } satisfies PlayerReply);
      port.close();
    }
  });
  port.postMessage({ type: 'ready', songs: rowids.length } satisfies PlayerReply);
}

if (parentPort) main(parentPort, workerData as PlayerWorkerData);
