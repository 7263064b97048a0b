/**
 * Playlists end to end, against s3rver: machine A publishes a playlist to the
 * remote (as the player sync will, through putPlaylist), and machine B's
 * `cratesync pull` (the real CLI) writes it into B's library under
 * Playlists/alice/ with paths that lead to the files it pulled; a dry run
 * writes nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { makeLibrary } from '../fixtures/audio.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { S3Remote } from '../../src/remote/s3/s3-remote.js';
import { openStateDb } from '../../src/state/state-db.js';
import { RemoteMirror } from '../../src/state/remote-mirror.js';
import { RemoteCatalog } from '../../src/sync/catalog.js';
import { putPlaylist } from '../../src/sync/playlist-publish.js';
import { parseM3u8 } from '../../src/share/m3u8.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const dirs: string[] = [];
const tmp = async (name: string) => {
  const d = await mkdtemp(join(tmpdir(), `cs-${name}-`));
  dirs.push(d);
  return d;
};

let server: S3rver;
beforeAll(async () => {
  server = await startS3rver();
});
afterAll(() => server.stop());
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('playlists end to end', () => {
  it('machine A publishes a playlist; machine B `cratesync pull` gets it with working paths', async () => {
    await server.createBucket('lists');
    const url = 's3://lists/dj';
    const env = { ...CREDS, AWS_ENDPOINT_URL: server.endpoint };
    const libA = await tmp('libA');
    const paths = (await makeLibrary(libA, { albums: 2, tracksPerAlbum: 2, seed: 7 })).filter((p) => /\.(mp3|flac)$/.test(p));
    const a: CliEnv = { home: await tmp('homeA'), env };
    const push = await cliJson(a, 'push', libA, url, '--user', 'alice');
    expect(push.code, push.stderr).toBe(0);

    // A's player sync publishes a playlist of two of those files.
    for (const [k, v] of Object.entries(CREDS)) v === undefined ? delete process.env[k] : (process.env[k] = v);
    const remote = new S3Remote({ bucket: 'lists', prefix: 'dj/', endpoint: server.endpoint });
    const db = openStateDb(':memory:');
    try {
      const mirror = new RemoteMirror(db, remote.url);
      const catalog = new RemoteCatalog(remote, mirror, db, 'alice@laptop-a', 'laptop-a');
      await catalog.refresh({ full: false, problems: [] });
      const entries = [paths[0]!, paths[3]!].map((path) => ({ path }));
      const r = await putPlaylist({ remote, catalog, user: 'alice' }, { name: 'Sets/Peak Time', player: 'strawberry', smart: false, entries });
      expect(r.key).toBe('playlists/alice/Sets/Peak Time.m3u8');
      await catalog.publish();
    } finally {
      db.close();
      await remote.close();
    }

    const b: CliEnv = { home: await tmp('homeB'), env };
    const libB = await tmp('libB');
    const file = join(libB, 'Playlists', 'alice', 'Sets', 'Peak Time.m3u8');
    const dry = await cliJson(b, 'pull', libB, url, '--user', 'bob', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    await expect(stat(file)).rejects.toThrow();

    const pull = await cli(b, 'pull', libB, url, '--user', 'bob');
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stderr).toMatch(/playlists: 1 written/);
    const targets = parseM3u8(await readFile(file, 'utf8')).map((e) => resolve(dirname(file), e.path));
    expect(targets).toEqual([join(libB, paths[0]!), join(libB, paths[3]!)]);
    for (const t of targets) expect((await stat(t)).isFile()).toBe(true);

    // Pulled again: nothing changes; and the playlist is never pushed back as music.
    const again = await cliJson(b, 'pull', libB, url, '--user', 'bob');
    expect(again.code, again.stderr).toBe(0);
    const back = await cliJson(b, 'push', libB, url, '--user', 'bob', '--dry-run');
    expect(back.json.summary.uploaded).toBe(0);
  });
});
