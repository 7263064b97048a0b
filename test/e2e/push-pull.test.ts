/**
 * End to end: the real CLI on a generated library of real tagged MP3 and FLAC
 * files, against a folder remote and against s3rver.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, utimes, unlink, symlink, mkdir, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLibrary } from '../fixtures/audio.js';
import { retagMp3 } from '../fixtures/mp3.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { treeHashes } from '../support/tree.js';
import { startS3rver } from '../support/s3rver.js';

interface Target {
  name: string;
  url(): string;
  env(): Record<string, string | undefined>;
  setup(): Promise<void>;
  teardown(): Promise<void>;
}

function folderTarget(): Target {
  let dir = '';
  return {
    name: 'folder',
    url: () => dir,
    env: () => ({}),
    setup: async () => {
      dir = await mkdtemp(join(tmpdir(), 'cs-remote-'));
    },
    teardown: () => rm(dir, { recursive: true, force: true }),
  };
}

function s3Target(): Target {
  let server: Awaited<ReturnType<typeof startS3rver>> | undefined;
  let n = 0;
  return {
    name: 's3',
    url: () => `s3://bucket${n}/dj`,
    env: () => ({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_ENDPOINT_URL: server?.endpoint, AWS_PROFILE: undefined, AWS_REGION: 'us-east-1' }),
    setup: async () => {
      server ??= await startS3rver();
      n++;
      await server.createBucket(`bucket${n}`);
    },
    teardown: async () => {},
  };
}

for (const target of [folderTarget(), s3Target()]) {
  describe(`push/pull against ${target.name}`, () => {
    let lib: string;
    let home: string;
    let env: CliEnv;

    beforeEach(async () => {
      await target.setup();
      lib = await mkdtemp(join(tmpdir(), 'cs-lib-'));
      home = await mkdtemp(join(tmpdir(), 'cs-home-'));
      await makeLibrary(lib, { albums: 3, tracksPerAlbum: 3, flacShare: 0.3, extras: true, seed: 7 });
      env = { home, env: target.env() };
    });

    it('pushes everything, then pulls into an empty folder byte for byte', async () => {
      const push = await cliJson(env, 'push', lib, target.url());
      expect(push.code, push.stderr).toBe(0);
      const expected = await treeHashes(lib);
      expected.delete('notes.txt'); // not a music file: never synced
      expect(push.json.summary.transferred).toBe(expected.size);

      const again = await cliJson(env, 'push', lib, target.url());
      expect(again.code).toBe(0);
      expect(again.json.summary.transferred).toBe(0);
      expect(again.json.summary.unchanged).toBe(expected.size);
      expect(again.json.hashed).toBe(0);

      const other = await mkdtemp(join(tmpdir(), 'cs-pull-'));
      const pull = await cliJson({ home: await mkdtemp(join(tmpdir(), 'cs-home2-')), env: target.env() }, 'pull', other, target.url());
      expect(pull.code, pull.stderr).toBe(0);
      expect(await treeHashes(other)).toEqual(expected);
    });

    it('sends a same-size tag edit and not a touched file', async () => {
      await cli(env, 'push', lib, target.url());
      const files = [...(await treeHashes(lib)).keys()].filter((p) => p.endsWith('.mp3'));
      const edited = join(lib, files[0]!);
      const touched = join(lib, files[1]!);
      const before = await readFile(edited);
      const after = retagMp3(before, { title: 'Another Title', artist: 'Someone' }, { sameSize: true });
      expect(after.length).toBe(before.length);
      await writeFile(edited, after);
      const t = new Date(Date.now() + 60_000);
      await utimes(touched, t, t);

      const r = await cliJson(env, 'push', lib, target.url());
      expect(r.code, r.stderr).toBe(0);
      const sent = r.json.actions.filter((a: any) => a.status === 'done').map((a: any) => a.path);
      expect(sent).toEqual([files[0]]);
      expect(r.json.hashed).toBe(2);
    });

    it('honours --include and --exclude (exclude wins)', async () => {
      const r = await cliJson(env, 'push', lib, target.url(), '--include', '*.flac', '--include', 'cover.jpg', '--exclude', 'Björk/');
      expect(r.code, r.stderr).toBe(0);
      const sent: string[] = r.json.actions.filter((a: any) => a.status === 'done').map((a: any) => a.path);
      expect(sent.length).toBeGreaterThan(0);
      for (const p of sent) {
        expect(p.endsWith('.flac') || p.endsWith('cover.jpg')).toBe(true);
        expect(p.startsWith('Björk/')).toBe(false);
      }
    });

    it('--dry-run prints the plan and changes nothing', async () => {
      const r = await cli(env, 'push', lib, target.url(), '--dry-run');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^upload\s+Björk\/.+\(new, /m);
      expect(r.stdout).toMatch(/would upload \d+/);
      const status = await cliJson(env, 'status', lib, target.url());
      expect(status.json.summary.unchanged).toBe(0);
      expect(status.json.actions.every((a: any) => a.status === 'planned')).toBe(true);
    });

    it('push --delete moves to trash, refuses past the limit, and restore brings it back', async () => {
      await cli(env, 'push', lib, target.url());
      const all = [...(await treeHashes(lib)).keys()].filter((p) => p !== 'notes.txt');
      const gone = all.filter((p) => p.endsWith('.mp3')).slice(0, 2);
      for (const p of gone) await unlink(join(lib, p));

      const dry = await cli(env, 'push', lib, target.url(), '--delete', '--dry-run');
      expect(dry.stdout).toMatch(/trash-remote\s+/);

      const r = await cliJson(env, 'push', lib, target.url(), '--delete');
      expect(r.code, r.stderr).toBe(0);
      const trashed = r.json.actions.filter((a: any) => a.kind === 'trash-remote').map((a: any) => a.path);
      expect(trashed.sort()).toEqual([...gone].sort());

      const list = await cliJson(env, 'trash', 'list', target.url());
      expect(list.json).toHaveLength(1);
      expect(list.json[0].items.map((i: any) => i.path).sort()).toEqual(gone.map((p) => `music/${p}`).sort());

      // Deleting most of the library trips the safety limit: nothing moves.
      const rest = all.filter((p) => !gone.includes(p));
      for (const p of rest.slice(0, Math.ceil(rest.length * 0.7))) await unlink(join(lib, p));
      const refused = await cli(env, 'push', lib, target.url(), '--delete');
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/over the limit of 50%.*nothing was changed/);
      expect((await cliJson(env, 'trash', 'list', target.url())).json).toHaveLength(1);

      const restore = await cliJson(env, 'trash', 'restore', list.json[0].stamp, target.url());
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.json.restored).toHaveLength(2);
      const empty = await mkdtemp(join(tmpdir(), 'cs-pull-'));
      const pull = await cliJson({ home: await mkdtemp(join(tmpdir(), 'cs-home3-')), env: target.env() }, 'pull', empty, target.url(), '--include', gone[0]!);
      expect(pull.code, pull.stderr).toBe(0);
      expect(existsSync(join(empty, gone[0]!))).toBe(true);
    });

    it('pull keeps replaced local files in the local trash, and pull --delete never unlinks', async () => {
      await cli(env, 'push', lib, target.url());
      const files = [...(await treeHashes(lib)).keys()].filter((p) => p.endsWith('.mp3'));
      const changed = join(lib, files[0]!);
      const original = await readFile(changed);
      await writeFile(changed, retagMp3(original, { title: 'Local Edit' }));
      await writeFile(join(lib, 'Extra.mp3'), original);

      const r = await cliJson(env, 'pull', lib, target.url(), '--delete');
      expect(r.code, r.stderr).toBe(0);
      expect(await readFile(changed)).toEqual(original);
      expect(existsSync(join(lib, 'Extra.mp3'))).toBe(false);
      const trash = await cliJson(env, 'trash', 'list', '--local', lib);
      const items = trash.json.flatMap((b: any) => b.items.map((i: any) => i.path)).sort();
      expect(items).toEqual(['Extra.mp3', files[0]].sort());
    });

    it('reports bad files in one line each and syncs the rest', async () => {
      await writeFile(join(lib, 'corrupt.mp3'), Buffer.from('this is not audio at all'));
      await symlink(join(lib, 'missing-target.flac'), join(lib, 'broken.flac'));
      await mkdir(join(lib, 'loop'));
      await symlink(lib, join(lib, 'loop', 'again'));
      const r = await cliJson(env, 'push', lib, target.url());
      expect(r.code).toBe(1);
      expect(r.json.problems.map((p: any) => p.path).sort()).toEqual(['broken.flac', 'loop/again']);
      expect(r.json.actions.find((a: any) => a.path === 'corrupt.mp3')?.status).toBe('done');
      expect(r.json.summary.failed).toBe(0);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });
}

describe('errors', () => {
  let lib: string;
  let home: string;
  beforeAll(async () => {
    lib = await mkdtemp(join(tmpdir(), 'cs-lib-'));
    home = await mkdtemp(join(tmpdir(), 'cs-home-'));
    await makeLibrary(lib, { albums: 1, tracksPerAlbum: 2 });
  });
  afterAll(() => rm(lib, { recursive: true, force: true }));

  it('an unreachable S3 endpoint is one line and exit 2', async () => {
    const r = await cli({ home, env: { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y' } }, 'push', lib, 's3://nowhere/dj', '--endpoint', 'http://127.0.0.1:9');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^cratesync: .*127\.0\.0\.1:9/);
  });

  it('a missing library folder names it', async () => {
    const r = await cli({ home }, 'push', join(lib, 'nope'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/library folder .*nope does not exist/);
  });

  it('init writes a config that later commands use; a bad key is named', async () => {
    const remote = await mkdtemp(join(tmpdir(), 'cs-remote-'));
    const init = await cli({ home }, 'init', '--library', lib, '--remote', remote, '--user', 'dj-one', '--exclude', '*.flac');
    expect(init.code, init.stderr).toBe(0);
    const cfg = JSON.parse(await readFile(join(home, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ library: lib, remote, user: 'dj-one', exclude: ['*.flac'] });
    const push = await cliJson({ home }, 'push');
    expect(push.code, push.stderr).toBe(0);
    expect(push.json.remote).toContain(remote);
    expect((await readdir(join(remote, 'music'), { recursive: true })).some((p) => String(p).endsWith('.mp3'))).toBe(true);

    await writeFile(join(home, 'config.json'), JSON.stringify({ ...cfg, transfers: 'many' }));
    const bad = await cli({ home }, 'status');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/config\.json: transfers: /);
    await writeFile(join(home, 'config.json'), JSON.stringify({ ...cfg, secretKey: 'x' }));
    expect((await cli({ home }, 'status')).stderr).toMatch(/secretKey: secrets do not belong/);
  });

  it('the config\'s maxDelete applies when --max-delete is not given', async () => {
    const h = await mkdtemp(join(tmpdir(), 'cs-home-'));
    const own = await mkdtemp(join(tmpdir(), 'cs-lib-'));
    const paths = await makeLibrary(own, { albums: 1, tracksPerAlbum: 3, seed: 21 });
    const remote = await mkdtemp(join(tmpdir(), 'cs-remote-'));
    expect((await cli({ home: h }, 'init', '--library', own, '--remote', remote, '--max-delete', '0')).code).toBe(0);
    expect((await cli({ home: h }, 'push')).code).toBe(0);
    await unlink(join(own, paths[0]!));
    const refused = await cli({ home: h }, 'push', '--delete');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/over the limit of 0 files/);
    expect((await cli({ home: h }, 'push', '--delete', '--max-delete', '1')).code).toBe(0);
  });

  it('with no config and no remote, push uses the embedded folder remote', async () => {
    const h = await mkdtemp(join(tmpdir(), 'cs-home-'));
    const r = await cliJson({ home: h }, 'push', lib);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.summary.transferred).toBe(2);
    expect(existsSync(join(h, 'data', 'remote', 'music'))).toBe(true);
  });
});
