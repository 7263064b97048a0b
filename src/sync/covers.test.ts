import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeMp3 } from '../../test/fixtures/mp3.js';
import { pngCover } from '../../test/fixtures/tags.js';
import { startS3rver, type S3rver } from '../../test/support/s3rver.js';
import { FakeRemote } from '../../test/support/fake-remote.js';
import { TransientError } from '../errors.js';
import { makeFilter } from '../library/filter.js';
import { storeCover } from '../library/cover-store.js';
import { S3Remote } from '../remote/s3/s3-remote.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { CoverUploads } from '../state/cover-uploads.js';
import { COVERS_PREFIX } from '../core/cover-name.js';
import type { Problem } from '../core/problem.js';
import { LibrarySession } from './library-session.js';
import { runSync } from './engine.js';
import { CoverUploader } from './covers.js';

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: S3rver | undefined;
afterAll(() => server?.stop());

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-covers-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('push sends covers', () => {
  it('lands each embedded cover once under .cratesync/covers/ on s3rver, by its content', async () => {
    server ??= await startS3rver();
    await server.createBucket('covers');
    const remote = new S3Remote({ bucket: 'covers', prefix: '', endpoint: server.endpoint });
    const root = join(dir, 'library');
    const front = pngCover('album front', 32);
    const other = pngCover('single', 24);
    await mkdir(join(root, 'Artist', 'Album'), { recursive: true });
    for (let i = 1; i <= 3; i++) await writeFile(join(root, 'Artist', 'Album', `0${i}.mp3`), makeMp3({ title: `T${i}`, seed: i, cover: front }));
    await writeFile(join(root, 'Artist', 'single.mp3'), makeMp3({ title: 'S', seed: 9, cover: other }));
    await writeFile(join(root, 'Artist', 'bare.mp3'), makeMp3({ title: 'B', seed: 10 }));
    const session = await LibrarySession.open({ root, stateFile: join(dir, 'state', 'lib.db'), user: 'tester', mode: 'write' });
    try {
      const result = await runSync(session, { direction: 'push', remote, filter: makeFilter(), delete: false, maxDelete: { percent: 50 }, dryRun: false, transfers: 4 });
      expect(result.exec?.failed).toEqual([]);
      expect(result.problems).toEqual([]);
      const covers: string[] = [];
      for await (const o of remote.list(COVERS_PREFIX)) covers.push(o.key);
      expect(covers.sort()).toEqual([`${COVERS_PREFIX}${sha256(front)}.png`, `${COVERS_PREFIX}${sha256(other)}.png`].sort());
      expect((await remote.read(`${COVERS_PREFIX}${sha256(front)}.png`)).equals(front)).toBe(true);
      // The local store beside the state database has them too, and the state knows they are sent.
      expect(session.coversDir).toBe(join(dir, 'state', 'covers'));
      expect(new CoverUploads(session.db, remote.url).has(`${sha256(front)}.png`)).toBe(true);
    } finally {
      session.close();
      await remote.close();
    }
  }, 60_000);
});

describe('CoverUploader', () => {
  let db: Db;
  let covers: string;
  const picture = pngCover('uploader', 16);
  const name = `${sha256(picture)}.png`;
  beforeEach(async () => {
    db = openStateDb(join(dir, 'state.db'));
    covers = join(dir, 'covers');
  });
  afterEach(() => db.close());

  it('sends a cover once however many songs share it, then never asks again', async () => {
    await storeCover(covers, name, picture);
    const remote = new FakeRemote();
    const problems: Problem[] = [];
    const up = new CoverUploader(remote, new CoverUploads(db, remote.url), covers, (p) => problems.push(p));
    await Promise.all([1, 2, 3, 4].map((i) => up.ensure(name, `a/${i}.mp3`)));
    expect(remote.calls.put).toBe(1);
    expect((await remote.read(COVERS_PREFIX + name)).equals(picture)).toBe(true);
    const stats = remote.calls.stat;
    await up.ensure(name, 'a/5.mp3');
    expect([remote.calls.put, remote.calls.stat]).toEqual([1, stats]);
    expect(problems).toEqual([]);
  });

  it('sends nothing when the remote has it already', async () => {
    await storeCover(covers, name, picture);
    const remote = new FakeRemote();
    await remote.put(COVERS_PREFIX + name, { data: picture });
    const up = new CoverUploader(remote, new CoverUploads(db, remote.url), covers, () => {});
    await up.ensure(name, 'a.mp3');
    expect(remote.calls.put).toBe(1);
    expect(new CoverUploads(db, remote.url).has(name)).toBe(true);
  });

  it('reports a cover missing from the local store, or failing to send, and never rejects', async () => {
    const remote = new FakeRemote();
    const problems: Problem[] = [];
    const up = new CoverUploader(remote, new CoverUploads(db, remote.url), covers, (p) => problems.push(p));
    await up.ensure(name, 'a.mp3');
    expect(problems).toEqual([{ path: 'a.mp3', message: expect.stringContaining('not in the local cover store') }]);
    await storeCover(covers, name, picture);
    remote.fail('put', new TransientError('503 Slow Down'), { times: 1 });
    await up.ensure(name, 'b.mp3');
    expect(problems[1]).toEqual({ path: 'b.mp3', message: expect.stringContaining('503 Slow Down') });
    // Not remembered as sent: the next song tries again.
    await up.ensure(name, 'c.mp3');
    expect((await remote.read(COVERS_PREFIX + name)).equals(picture)).toBe(true);
    expect(problems).toHaveLength(2);
    await up.ensure('../../etc/passwd', 'd.mp3');
    expect(remote.keys()).toEqual([COVERS_PREFIX + name]);
  });
});
