/**
 * The Subsonic server inside the service (the compiled host, whose index
 * builds on the worker), over a real state file and a real listener: it
 * starts without waiting for the first build of the index, and answers
 * requests while the build runs, saying it scans.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { RemoteMirror } from '../state/remote-mirror.js';
import { ServeUsers } from '../state/serve-users.js';
import { RemoteCatalog } from '../sync/catalog.js';
import { loadCodec } from '../sync/catalog-codec.js';
import type { LibrarySession } from '../sync/library-session.js';
import type { CatalogGate } from '../subsonic/serve-context.js';

// The compiled host (`npm test` builds first): the index worker's script exists there.
const compiled = (await import(new URL('../../dist/src/service/subsonic-host.js', import.meta.url).href)) as typeof import('./subsonic-host.js');

beforeAll(loadCodec);

const SONGS = 20_000;
const dirs: string[] = [];
const dbs: Db[] = [];
afterEach(async () => {
  for (const db of dbs.splice(0)) db.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cs-subsonic-host-'));
  dirs.push(d);
  return d;
}

describe('hostSubsonic', () => {
  it('serves at once and answers getScanStatus (scanning) while the first build of the index runs', { timeout: 120_000 }, async () => {
    const home = await tmp();
    const remote = new FolderRemote(await tmp());
    const db = openStateDb(join(home, 'state.db'));
    dbs.push(db);
    const mirror = new RemoteMirror(db, remote.url);
    for (let i = 0; i < SONGS; i++) {
      mirror.put({ key: `music/A${i % 70}/B${i % 900}/${i}.mp3`, size: 1, md5: '0'.repeat(32), writtenAt: 1, tags: { title: `T${i}`, artist: `A${i % 70}`, album: `B${i % 900}` } });
    }
    mirror.flush();
    const keyFile = join(home, 'serve.key');
    new ServeUsers(db, keyFile).add('dan', 'pw');
    const catalog = new RemoteCatalog(remote, mirror, db, 'srv@srv-m', 'srv-m');
    const session = { db, root: home, forRemote: () => ({ catalog }) } as unknown as LibrarySession;
    // The service's gate, as between its runs: the build (its second use) is held until let go; the catalog
    // reads are put off (as during a run), since this mirror is the test's and the remote has none of it.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let gated = 0;
    const gate: CatalogGate = (fn) => (++gated === 2 ? held.then(fn) : undefined);
    const hosted = await compiled.hostSubsonic({
      session,
      remote,
      settings: { listen: { host: '127.0.0.1', port: 0 }, keyFile, coversDir: join(home, 'covers'), crewUser: 'srv' },
      log: pino({ level: 'silent' }),
      gate,
    });
    const scanStatus = async () => {
      const res = await fetch(`${hosted.url}/rest/getScanStatus?u=dan&p=pw&v=1.16.1&c=test&f=json`);
      return ((await res.json()) as { 'subsonic-response': { scanStatus: { scanning: boolean; count: number } } })['subsonic-response'].scanStatus;
    };
    const built = () => db.prepare('SELECT count(*) FROM sub_built').pluck().get() === 1;
    try {
      // Listening, with the build not started yet (held at the gate).
      expect(gated).toBe(2);
      expect(built()).toBe(false);
      expect(await scanStatus()).toEqual({ scanning: false, count: 0 });
      release();
      // Asked again and again until the build is committed: answers came while it ran.
      const answers: Array<{ scanning: boolean; count: number }> = [];
      while (!built()) answers.push(await scanStatus());
      const during = answers.filter((a) => a.scanning);
      expect(during.length).toBeGreaterThan(0);
      expect(during.every((a) => a.count >= 0 && a.count <= SONGS)).toBe(true);
      // Then the whole index (the worker's exit is heard a moment after its commit).
      let last = await scanStatus();
      while (last.scanning) last = await scanStatus();
      expect(last).toEqual({ scanning: false, count: SONGS });
    } finally {
      await hosted.close();
    }
  });
});
