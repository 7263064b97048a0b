import { describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { openStateDb } from './state-db.js';
import { ActivityLog, type ActivityKind, type NewActivity } from './activity-log.js';

const row = (i: number, o: Partial<NewActivity> = {}): NewActivity => ({
  at: 1_000_000 + i * 1000,
  runId: `run${Math.floor(i / 10)}`,
  kind: 'upload',
  reason: 'new',
  path: `Artist ${i % 7}/Album/${String(i).padStart(5, '0')} Track.mp3`,
  bytes: 1000 + i,
  ok: true,
  ...o,
});

function fresh(o: ConstructorParameters<typeof ActivityLog>[1] = {}): { db: ReturnType<typeof openStateDb>; log: ActivityLog } {
  const db = openStateDb(':memory:');
  return { db, log: new ActivityLog(db, o) };
}

describe('activity log', () => {
  it('pages newest first by keyset, with the total of the filtered set on every page', () => {
    const { log } = fresh();
    log.add(...Array.from({ length: 25 }, (_, i) => row(i)));
    const seen: number[] = [];
    let before: number | undefined;
    let pages = 0;
    for (;;) {
      const p = log.query({ limit: 10, ...(before !== undefined ? { before } : {}) });
      pages++;
      expect(p.total).toBe(25);
      seen.push(...p.rows.map((r) => r.bytes - 1000));
      if (p.next === undefined) break;
      before = p.next;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 24 - i));
  });

  it('gives a row back as it was added, error and source path included', () => {
    const { log } = fresh();
    log.add(row(1, { kind: 'copy-remote', reason: 'moved', from: 'Old/a.mp3', path: 'New/a.mp3', bytes: 0 }));
    log.add(row(2, { ok: false, error: 'New/b.mp3: permission denied', path: 'New/b.mp3', bytes: 0 }));
    const [failed, moved] = log.query().rows;
    expect(moved).toEqual({ id: 1, at: 1_001_000, runId: 'run0', kind: 'copy-remote', reason: 'moved', path: 'New/a.mp3', from: 'Old/a.mp3', bytes: 0, ok: true });
    expect(failed).toMatchObject({ ok: false, error: 'New/b.mp3: permission denied' });
    expect(failed).not.toHaveProperty('from');
  });

  it('filters by kinds, reasons and time, together', () => {
    const { log } = fresh();
    const kinds: ActivityKind[] = ['upload', 'download', 'trash-remote'];
    const reasons = ['new', 'tags-changed', 'content-differs', 'deleted-locally'];
    log.add(...Array.from({ length: 60 }, (_, i) => row(i, { kind: kinds[i % 3] as ActivityKind, reason: reasons[i % 4] as string })));
    const up = log.query({ kinds: ['upload'], limit: 500 });
    expect(up.total).toBe(20);
    expect(up.rows.every((r) => r.kind === 'upload')).toBe(true);
    const both = log.query({ kinds: ['upload', 'download'], reasons: ['tags-changed'], limit: 500 });
    // i % 3 in {0,1} and i % 4 === 1: i ≡ 1 or 9 (mod 12)
    expect(both.rows.map((r) => r.bytes - 1000).sort((a, b) => a - b)).toEqual([1, 9, 13, 21, 25, 33, 37, 45, 49, 57]);
    expect(both.total).toBe(10);
    const window = log.query({ from: row(10).at, to: row(19).at });
    expect(window.total).toBe(10);
    expect(window.rows[0]?.at).toBe(row(19).at);
    expect(window.rows.at(-1)?.at).toBe(row(10).at);
    expect(log.query({ kinds: ['restore'] })).toEqual({ rows: [], total: 0 });
  });

  it('searches the path and a move\'s source as a substring in any case and script, wildcards taken literally', () => {
    const { log } = fresh();
    log.add(row(1, { path: 'Björk/Homogenic/01 Hunter.mp3' }));
    log.add(row(2, { path: 'Sigur Rós/Ágætis byrjun/03 Starálfur.flac' }));
    log.add(row(3, { path: 'New/x.mp3', from: 'BJÖRK/Old/x.mp3', kind: 'copy-remote', reason: 'moved', bytes: 0 }));
    log.add(row(4, { path: '100% pure_fun.mp3' }));
    log.add(row(5, { path: '1000 pureXfun.mp3' }));
    expect(log.query({ q: 'bjÖrk' }).rows.map((r) => r.path)).toEqual(['New/x.mp3', 'Björk/Homogenic/01 Hunter.mp3']);
    expect(log.query({ q: 'ÁGÆTIS' }).total).toBe(1);
    // NFD in the query finds the NFC path.
    expect(log.query({ q: 'Ros/'.normalize('NFD').replace('o', 'ó'.normalize('NFD')) }).total).toBe(1);
    expect(log.query({ q: '0% pure_' }).rows.map((r) => r.path)).toEqual(['100% pure_fun.mp3']);
    expect(log.query({ q: '' }).total).toBe(5);
  });

  it('commits in batches: rows wait for the batch, and a query sees them', () => {
    const { db, log } = fresh({ delayMs: 60_000 });
    log.add(row(1), row(2));
    expect(db.prepare('SELECT COUNT(*) FROM activity').pluck().get()).toBe(0);
    expect(log.query().total).toBe(2);
    expect(db.prepare('SELECT COUNT(*) FROM activity').pluck().get()).toBe(2);
  });

  it('keeps the newest rows only, pruning the oldest in batches', () => {
    const { db, log } = fresh({ keep: 100, pruneBatch: 7, delayMs: 60_000 });
    const deletes: number[] = [];
    db.function('note_delete', () => (deletes.push(1), null));
    db.exec('CREATE TEMP TRIGGER count_deletes AFTER DELETE ON activity BEGIN SELECT note_delete(); END');
    // One batch of 350 rows, then 250 pruned 7 at a time (the loop goes on until a short batch).
    for (let i = 0; i < 350; i++) log.add(row(i));
    log.flush();
    const all = log.query({ limit: 500 });
    expect(all.total).toBe(100);
    expect(all.rows.at(-1)?.bytes).toBe(1000 + 250);
    expect(all.rows[0]?.bytes).toBe(1000 + 349);
    expect(deletes.length).toBe(250);
    // Once pruned, nothing more goes until new rows come.
    expect(log.prune()).toBe(0);
    log.add(row(350));
    log.flush();
    expect(log.query().total).toBe(100);
    expect(log.query({ limit: 500 }).rows.at(-1)?.bytes).toBe(1000 + 251);
  });

  it('drops a batch it cannot write and tells onError; later rows are written again', () => {
    const db = openStateDb(':memory:');
    const errors: unknown[] = [];
    const log = new ActivityLog(db, { onError: (e) => errors.push(e), delayMs: 60_000 });
    db.exec(`CREATE TEMP TRIGGER refuse BEFORE INSERT ON activity WHEN NEW.path = 'bad' BEGIN SELECT RAISE(ABORT, 'disk full'); END`);
    log.add(row(1), row(2, { path: 'bad' }));
    expect(() => log.flush()).not.toThrow();
    expect(String(errors[0])).toMatch(/disk full/);
    log.add(row(3));
    expect(log.query().rows.map((r) => r.bytes)).toEqual([1003]);
  });

  it('counts done uploads and downloads by reason', () => {
    const { log } = fresh();
    log.add(row(1, { reason: 'tags-changed' }), row(2, { reason: 'tags-changed', kind: 'download' }), row(3, { reason: 'tags-changed', ok: false }));
    log.add(row(4, { reason: 'content-differs' }), row(5, { reason: 'tags-changed', kind: 'trash-remote' }), row(6));
    expect(log.countReasons(['upload', 'download'], ['content-differs', 'tags-changed'])).toEqual({ 'content-differs': 1, 'tags-changed': 2 });
  });

  it('searches and filters 20,000 rows by its indexes (time printed)', () => {
    const { db, log } = fresh();
    const kinds: ActivityKind[] = ['upload', 'download', 'copy-remote', 'trash-remote', 'trash-local', 'restore'];
    const t0 = performance.now();
    for (let i = 0; i < 20_000; i++) log.add(row(i, { kind: kinds[i % kinds.length] as ActivityKind, reason: i % 50 === 0 ? 'tags-changed' : 'new' }));
    log.flush();
    const inserted = performance.now() - t0;
    const timings: Record<string, number> = {};
    const time = <T>(name: string, fn: () => T): T => {
      const t = performance.now();
      const out = fn();
      timings[name] = Math.round((performance.now() - t) * 100) / 100;
      return out;
    };
    const first = time('first page', () => log.query());
    expect(first.total).toBe(20_000);
    const deep = time('page 100 (keyset)', () => log.query({ before: 10_000 }));
    expect(deep.rows[0]?.id).toBe(9999);
    const search = time('search "01234"', () => log.query({ q: '01234' }));
    expect(search.total).toBe(1);
    const wide = time('search "artist 3"', () => log.query({ q: 'ARTIST 3' }));
    expect(wide.total).toBe(Math.ceil((20_000 - 3) / 7));
    const rare = time('reason tags-changed', () => log.query({ reasons: ['tags-changed'] }));
    expect(rare.total).toBe(400);
    const kind = time('kind restore + search', () => log.query({ kinds: ['restore'], q: 'artist 1/' }));
    expect(kind.rows.every((r) => r.kind === 'restore' && r.path.startsWith('Artist 1/'))).toBe(true);
    const window = time('a day', () => log.query({ from: row(5000).at, to: row(5000).at + 86_400_000 - 1 }));
    expect(window.total).toBe(15_000);
    const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT id FROM activity WHERE reason IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT 10`).all('["x"]') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' | ')).toMatch(/activity_reason/);
    console.log(`activity log, 20,000 rows: inserted in ${Math.round(inserted)} ms; queries (ms): ${JSON.stringify(timings)}`);
  });
});
