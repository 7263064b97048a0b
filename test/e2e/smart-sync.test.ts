/**
 * Smart sync, end to end, on one user's machines: a renamed album is moved on
 * the remote by server-side copies (no audio bytes sent) and renamed on the
 * other machine (nothing downloaded); a tag-only edit is named as such and its
 * new tags reach the remote catalog; NFC and NFD spellings of a name are one
 * file; two names differing only in letter case are refused before anything
 * is sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, readFile, rename, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3, retagMp3 } from '../fixtures/mp3.js';
import { retagFlac } from '../fixtures/flac.js';
import { cliJson, type CliEnv } from '../support/cli.js';
import { treeHashes } from '../support/tree.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from '../support/fault-proxy.js';
import { getObject, listObjects, putObject, s3Client, type LogObject } from '../support/s3-objects.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-${name}-`));
const done = (r: { json: any }) => r.json.actions.filter((a: any) => a.status === 'done');
const sorted = <T>(xs: T[]) => [...xs].sort();

/** One remote to test against: its URL and environment, and a look at what it holds (keys relative to the remote root). */
interface Remote {
  url: string;
  env: Record<string, string | undefined>;
  /** Every key under `prefix` → MD5 of its content. */
  keys(prefix: string): Promise<Map<string, string>>;
  read(key: string): Promise<Buffer>;
  /** Requests the CLI sent since `mark` (S3 through the logging proxy only). */
  requests?: (mark: number) => ProxiedRequest[];
  mark?: () => number;
}

interface Target {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  fresh(): Promise<Remote>;
}

function s3Target(): Target {
  let server: S3rver;
  let proxy: FaultProxy;
  let s3: S3Client;
  let n = 0;
  return {
    name: 's3',
    async start() {
      server = await startS3rver();
      proxy = await startFaultProxy(server.endpoint);
      s3 = s3Client(server.endpoint);
    },
    async stop() {
      s3.destroy();
      await proxy.stop();
      await server.stop();
    },
    async fresh() {
      const bucket = `smart${++n}`;
      await server.createBucket(bucket);
      return {
        url: `s3://${bucket}/dj`,
        env: { ...CREDS, AWS_ENDPOINT_URL: proxy.endpoint },
        async keys(prefix) {
          const out = new Map<string, string>();
          for (const [k, etag] of await listObjects(s3, bucket, `dj/${prefix}`)) out.set(k.slice('dj/'.length), etag);
          return out;
        },
        read: (key) => getObject(s3, bucket, `dj/${key}`),
        mark: () => proxy.requests.length,
        requests: (mark) => proxy.requests.slice(mark).filter((q) => q.path.startsWith(`/${bucket}/`)),
      };
    },
  };
}

function folderTarget(): Target {
  return {
    name: 'folder',
    async start() {},
    async stop() {},
    async fresh() {
      const dir = await tmp('remote');
      return {
        url: dir,
        env: {},
        async keys(prefix) {
          const out = new Map<string, string>();
          const base = join(dir, ...prefix.split('/').filter(Boolean));
          if (!existsSync(base)) return out;
          for (const e of await readdir(base, { recursive: true, withFileTypes: true })) {
            if (!e.isFile()) continue;
            const abs = join(e.parentPath, e.name);
            out.set(relative(dir, abs).split(sep).join('/'), md5(await readFile(abs)));
          }
          return out;
        },
        read: (key) => readFile(join(dir, ...key.split('/'))),
      };
    },
  };
}

/** logsOf decodes the catalog log objects of `remote`, oldest first. */
async function logsOf(remote: Remote): Promise<LogObject[]> {
  const keys = [...(await remote.keys('.cratesync/catalog/log/')).keys()].sort();
  const out: LogObject[] = [];
  for (const key of keys) out.push({ key, doc: JSON.parse(gunzipSync(await remote.read(key)).toString('utf8')) as LogObject['doc'] });
  return out;
}

/** A machine: its own CRATESYNC_HOME and library folder. */
interface Machine {
  lib: string;
  env: CliEnv;
}

async function machine(remote: Remote): Promise<Machine> {
  return { lib: await tmp('lib'), env: { home: await tmp('home'), env: remote.env } };
}

for (const target of [s3Target(), folderTarget()]) {
  describe(`smart push and pull against ${target.name}`, () => {
    beforeAll(() => target.start());
    afterAll(() => target.stop());

    it('a renamed album is moved on the remote without sending audio, and renamed (not downloaded) on the other machine', async () => {
      const remote = await target.fresh();
      const a = await machine(remote);
      const b = await machine(remote);
      const paths = await makeLibrary(a.lib, { albums: 2, tracksPerAlbum: 3, seed: 'rename' });
      expect((await cliJson(a.env, 'push', a.lib, remote.url)).code).toBe(0);
      const pulled = await cliJson(b.env, 'pull', b.lib, remote.url);
      expect(pulled.code, pulled.stderr).toBe(0);
      expect(await treeHashes(b.lib)).toEqual(await treeHashes(a.lib));

      const oldDir = dirname(paths[0]!);
      const newDir = `${dirname(oldDir)}/Renamed Album (Remaster)`;
      const moved = paths.filter((p) => p.startsWith(`${oldDir}/`));
      const to = (p: string) => newDir + p.slice(oldDir.length);
      expect(moved.length).toBe(3);
      await rename(join(a.lib, oldDir), join(a.lib, newDir));

      let mark = remote.mark?.() ?? 0;
      const push = await cliJson(a.env, 'push', a.lib, remote.url);
      expect(push.code, push.stderr).toBe(0);
      expect(push.json.hashed).toBe(0); // a rename keeps the inode: nothing is read again
      expect(push.json.summary).toMatchObject({ transferred: 0, bytes: 0, uploaded: 0, moved: moved.length, trashed: 0, failed: 0 });
      const copies = push.json.actions.filter((x: any) => x.kind === 'copy-remote');
      expect(sorted(copies.map((x: any) => `${x.from} -> ${x.path} ${x.reason} ${x.status}`))).toEqual(
        sorted(moved.map((p) => `music/${p} -> ${to(p)} moved done`)),
      );
      const trashed = push.json.actions.filter((x: any) => x.kind === 'trash-remote');
      expect(sorted(trashed.map((x: any) => `${x.path} ${x.reason} ${x.status}`))).toEqual(sorted(moved.map((p) => `${p} moved done`)));

      if (remote.requests) {
        const puts = remote.requests(mark).filter((q) => q.method === 'PUT' && q.path.includes('/dj/music/'));
        expect(puts.filter((q) => q.copySource).length).toBeGreaterThanOrEqual(moved.length);
        expect(puts.filter((q) => q.bytes > 0).map((q) => q.path)).toEqual([]);
      }

      // The remote holds the library as it is now.
      const lib = await treeHashes(a.lib);
      const music = await remote.keys('music/');
      expect(new Map([...music].map(([k, v]) => [k.slice('music/'.length), v]))).toEqual(lib);
      // The catalog tells the other machines: the new keys with their content hash, the old ones gone.
      const entries = (await logsOf(remote)).flatMap((l) => l.doc.entries);
      for (const p of moved) {
        expect(entries.filter((e) => e.key === `music/${to(p)}`).map((e) => `${e.op} ${e.md5}`)).toEqual([`put ${lib.get(to(p))}`]);
        expect(entries.filter((e) => e.key === `music/${p}`).map((e) => e.op)).toEqual(['put', 'del']);
      }
      // A move is not a deletion: the old keys' content stands at the new keys, so no copy goes to trash.
      expect([...(await remote.keys('.cratesync/trash/')).keys()]).toEqual([]);

      // The other machine renames its files: nothing downloaded.
      mark = remote.mark?.() ?? 0;
      const pull = await cliJson(b.env, 'pull', b.lib, remote.url);
      expect(pull.code, pull.stderr).toBe(0);
      expect(pull.json.summary).toMatchObject({ transferred: 0, bytes: 0, downloaded: 0, moved: moved.length, failed: 0 });
      const renames = pull.json.actions.filter((x: any) => x.kind === 'move-local');
      expect(sorted(renames.map((x: any) => `${x.from} -> ${x.path} ${x.reason} ${x.status}`))).toEqual(sorted(moved.map((p) => `${p} -> ${to(p)} moved done`)));
      expect(await treeHashes(b.lib)).toEqual(lib);
      for (const p of moved) expect(existsSync(join(b.lib, p))).toBe(false);
      expect(existsSync(join(b.lib, oldDir))).toBe(false);
      if (remote.requests) {
        const gets = remote.requests(mark).filter((q) => q.method === 'GET' && q.path.includes('/dj/music/') && !q.path.includes('list-type'));
        expect(gets.map((q) => q.path)).toEqual([]);
      }

      // Both machines agree there is nothing left to do.
      for (const m of [a, b]) {
        const again = await cliJson(m.env, 'sync', m.lib, remote.url);
        expect(again.code, again.stderr).toBe(0);
        expect(again.json.actions.filter((x: any) => x.kind !== 'skip')).toEqual([]);
      }
    });

    it('a tag-only edit is sent as one, its new tags reach the catalog, and a touched file is not sent', async () => {
      const remote = await target.fresh();
      const a = await machine(remote);
      const b = await machine(remote);
      const paths = await makeLibrary(a.lib, { albums: 1, tracksPerAlbum: 4, flacShare: 0.25, seed: 'tags' });
      expect((await cliJson(a.env, 'push', a.lib, remote.url)).code).toBe(0);
      expect((await cliJson(b.env, 'pull', b.lib, remote.url)).code).toBe(0);
      const mp3 = paths.filter((p) => p.endsWith('.mp3'));
      const flac = paths.find((p) => p.endsWith('.flac'))!;
      const [edited, touched] = [mp3[0]!, mp3[1]!];
      const tags = { title: 'A Brand New Title', artist: 'Somebody Else', album: 'Elsewhere' };
      const before = { mp3: await readFile(join(a.lib, edited)), flac: await readFile(join(a.lib, flac)) };
      const after = { mp3: retagMp3(before.mp3, tags), flac: retagFlac(before.flac, { ...tags, title: 'A FLAC Title' }) };
      expect(after.mp3.length).not.toBe(before.mp3.length);
      await writeFile(join(a.lib, edited), after.mp3);
      await writeFile(join(a.lib, flac), after.flac);
      const t = new Date(Date.now() + 120_000);
      await utimes(join(a.lib, touched), t, t);

      const logsBefore = await logsOf(remote);
      const mark = remote.mark?.() ?? 0;
      const push = await cliJson(a.env, 'push', a.lib, remote.url);
      expect(push.code, push.stderr).toBe(0);
      expect(sorted(done(push).map((x: any) => `${x.kind} ${x.path} ${x.reason}`))).toEqual(sorted([`upload ${edited} tags changed`, `upload ${flac} tags changed`]));
      expect(push.json.summary).toMatchObject({ transferred: 2, uploaded: 2, tagOnly: 2 });
      // The touched file is unchanged (identical files may be left out of `actions`; they are counted).
      expect(push.json.actions.filter((x: any) => x.path === touched && !(x.kind === 'skip' && x.reason === 'identical'))).toEqual([]);
      expect(push.json.summary.unchanged).toBe(paths.length - 2);
      if (remote.requests) {
        const sent = remote.requests(mark).filter((q) => q.method === 'PUT' && q.path.includes('/dj/music/') && q.bytes > 0);
        const bucketRoot = `/${remote.url.slice('s3://'.length)}/music/`;
        expect(sorted(sent.map((q) => q.path.replace(/\?.*$/, '')))).toEqual(sorted([bucketRoot + edited, bucketRoot + flac]));
      }
      expect(md5(await remote.read(`music/${edited}`))).toBe(md5(after.mp3));

      // The newest catalog log says what each object is now: new content hash and tags, same audio hash.
      const logs = await logsOf(remote);
      expect(logs.length).toBeGreaterThan(logsBefore.length);
      const newest = logs[logs.length - 1]!;
      for (const [path, bytes, title] of [[edited, after.mp3, tags.title], [flac, after.flac, 'A FLAC Title']] as const) {
        const entry = newest.doc.entries.find((e) => e.key === `music/${path}`);
        expect(entry).toMatchObject({ op: 'put', md5: md5(bytes), size: bytes.length, tags: { ...tags, title } });
        const first = logsBefore.flatMap((l) => l.doc.entries).find((e) => e.key === `music/${path}`);
        expect(first?.tags?.title).not.toBe(title);
        expect(entry?.audioHash).toBeTruthy();
        expect(entry?.audioHash).toBe(first?.audioHash);
      }
      expect(logs.slice(logsBefore.length).flatMap((l) => l.doc.entries.map((e) => e.key))).not.toContain(`music/${touched}`);

      // The other machine gets them as tag-only edits too.
      const pull = await cliJson(b.env, 'pull', b.lib, remote.url);
      expect(pull.code, pull.stderr).toBe(0);
      expect(sorted(done(pull).map((x: any) => `${x.kind} ${x.path} ${x.reason}`))).toEqual(sorted([`download ${edited} tags changed`, `download ${flac} tags changed`]));
      expect(pull.json.summary.tagOnly).toBe(2);
      expect(await readFile(join(b.lib, edited))).toEqual(after.mp3);
      expect(await readFile(join(b.lib, flac))).toEqual(after.flac);
    });
  });
}

describe('names against s3rver', () => {
  const target = s3Target();
  beforeAll(() => target.start());
  afterAll(() => target.stop());

  it('NFC and NFD spellings are one file: an object under the other spelling is not sent again, and is replaced in place', async () => {
    const remote = await target.fresh();
    const m = await machine(remote);
    const nfc = 'Sigur Rós/Ágætis byrjun/01 Svefn-g-englar.mp3';
    const onDiskNfd = 'Röyksopp/Melody A.M/02 Eple.mp3';
    const fresh = 'Björk/Homogenic/03 Jóga.mp3';
    const bytes = (p: string) => makeMp3({ seed: p, title: p.split('/').pop() });
    for (const [p, spelled] of [[nfc, nfc], [onDiskNfd, onDiskNfd.normalize('NFD')], [fresh, fresh]] as const) {
      await mkdir(join(m.lib, dirname(spelled)), { recursive: true });
      await writeFile(join(m.lib, spelled), bytes(p));
    }
    // Another tool wrote the first under its NFD spelling, the second (NFD on disk here) under NFC.
    const s3 = s3Client(remote.env.AWS_ENDPOINT_URL!);
    const bucket = remote.url.slice('s3://'.length).split('/')[0]!;
    await putObject(s3, bucket, `dj/music/${nfc.normalize('NFD')}`, bytes(nfc));
    await putObject(s3, bucket, `dj/music/${onDiskNfd}`, bytes(onDiskNfd));
    s3.destroy();

    const mark = remote.mark!();
    const push = await cliJson(m.env, 'push', m.lib, remote.url);
    expect(push.code, push.stderr).toBe(0);
    expect(done(push).map((x: any) => x.path)).toEqual([fresh]);
    expect(push.json.summary.unchanged).toBe(2);
    const sent = remote.requests!(mark).filter((q) => q.method === 'PUT' && q.path.includes('/dj/music/') && q.bytes > 0);
    expect(sent.map((q) => q.path.replace(/\?.*$/, '').normalize('NFC'))).toEqual([`/${bucket}/dj/music/${fresh}`]);
    expect(sorted([...(await remote.keys('music/')).keys()])).toEqual(sorted([`music/${nfc.normalize('NFD')}`, `music/${onDiskNfd}`, `music/${fresh}`]));

    // A later edit replaces the object under the spelling it has: no second spelling appears.
    const edited = retagMp3(bytes(nfc), { title: 'Svefn-g-englar (edit)' });
    await writeFile(join(m.lib, nfc), edited);
    const again = await cliJson(m.env, 'push', m.lib, remote.url);
    expect(again.code, again.stderr).toBe(0);
    expect(done(again).map((x: any) => `${x.kind} ${x.key}`)).toEqual([`upload music/${nfc.normalize('NFD')}`]);
    const keys = await remote.keys('music/');
    expect(sorted([...keys.keys()])).toEqual(sorted([`music/${nfc.normalize('NFD')}`, `music/${onDiskNfd}`, `music/${fresh}`]));
    expect(keys.get(`music/${nfc.normalize('NFD')}`)).toBe(md5(edited));

    // Pulled elsewhere, each is one file, under its NFC name.
    const other = await machine(remote);
    const pull = await cliJson(other.env, 'pull', other.lib, remote.url);
    expect(pull.code, pull.stderr).toBe(0);
    expect(await treeHashes(other.lib)).toEqual(await treeHashes(m.lib));
  });

  it('two names differing only in letter case: one is refused before anything is sent, the other is uploaded', async () => {
    const remote = await target.fresh();
    const m = await machine(remote);
    await mkdir(join(m.lib, 'Clash'));
    await writeFile(join(m.lib, 'Clash', 'Track.mp3'), makeMp3({ seed: 'upper', title: 'Upper' }));
    await writeFile(join(m.lib, 'Clash', 'track.mp3'), makeMp3({ seed: 'lower', title: 'Lower' }));
    await writeFile(join(m.lib, 'Clash', 'Other.mp3'), makeMp3({ seed: 'other', title: 'Other' }));

    const mark = remote.mark!();
    const push = await cliJson(m.env, 'push', m.lib, remote.url);
    expect(push.code).toBe(1);
    const refused = push.json.actions.filter((x: any) => x.kind === 'error');
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ reason: 'name clash' });
    const loser: string = refused[0].path;
    const winner = loser === 'Clash/track.mp3' ? 'Clash/Track.mp3' : 'Clash/track.mp3';
    expect(['Clash/track.mp3', 'Clash/Track.mp3']).toContain(loser);
    expect(push.json.problems.filter((p: any) => p.path === loser)).toHaveLength(1);
    expect(push.json.problems.find((p: any) => p.path === loser).message).toContain(winner);
    expect(sorted(done(push).map((x: any) => x.path))).toEqual(sorted(['Clash/Other.mp3', winner]));
    expect(push.json.summary.failed).toBe(1);
    expect(remote.requests!(mark).filter((q) => q.path.includes(`/dj/music/${loser}`))).toEqual([]);
    const keys = await remote.keys('music/');
    expect(sorted([...keys.keys()])).toEqual(sorted([`music/${winner}`, 'music/Clash/Other.mp3']));
    expect(keys.get(`music/${winner}`)).toBe(md5(await readFile(join(m.lib, winner))));
  });

  // Was a bug at a408af7 (the local spelling was sent, the bucket held both); fixed in c3319bc.
  it('a new file whose name clashes in letter case with one already on the remote is refused, not sent', async () => {
    const remote = await target.fresh();
    const a = await machine(remote);
    const b = await machine(remote);
    await mkdir(join(a.lib, 'Clash'));
    await mkdir(join(b.lib, 'Clash'));
    await writeFile(join(a.lib, 'Clash', 'track.mp3'), makeMp3({ seed: 'lower', title: 'Lower' }));
    await writeFile(join(b.lib, 'Clash', 'Track.mp3'), makeMp3({ seed: 'upper', title: 'Upper' }));
    expect((await cliJson(a.env, 'push', a.lib, remote.url)).code).toBe(0);

    const mark = remote.mark!();
    const push = await cliJson(b.env, 'push', b.lib, remote.url);
    expect(push.code).toBe(1);
    expect(push.json.problems.some((p: any) => p.path === 'Clash/Track.mp3' || p.message.includes('Clash/Track.mp3'))).toBe(true);
    // Whichever name is blamed, the one already on the remote stays the only spelling there.
    expect([...(await remote.keys('music/')).keys()]).toEqual(['music/Clash/track.mp3']);
    expect(remote.requests!(mark).filter((q) => q.method === 'PUT' && q.path.includes('/dj/music/Clash/'))).toEqual([]);
    expect(push.json.actions.find((x: any) => x.path === 'Clash/Track.mp3')).toMatchObject({ kind: 'error', reason: 'name clash' });
  });

  // Was a bug at 4f734dd (refused as a clash with its own old name); fixed in a408af7.
  it('a file renamed to another letter case is a move, not a clash', async () => {
    const remote = await target.fresh();
    const m = await machine(remote);
    await mkdir(join(m.lib, 'Album'));
    await writeFile(join(m.lib, 'Album', '01 Signal Motion.mp3'), makeMp3({ seed: 'case', title: 'Signal Motion' }));
    expect((await cliJson(m.env, 'push', m.lib, remote.url)).code).toBe(0);
    await rename(join(m.lib, 'Album', '01 Signal Motion.mp3'), join(m.lib, 'Album', '01 signal motion.mp3'));

    const push = await cliJson(m.env, 'push', m.lib, remote.url);
    expect(push.code, JSON.stringify(push.json.problems)).toBe(0);
    expect(sorted(done(push).map((x: any) => `${x.kind} ${x.path} ${x.reason}`))).toEqual(
      sorted(['copy-remote Album/01 signal motion.mp3 moved', 'trash-remote Album/01 Signal Motion.mp3 moved']),
    );
    expect([...(await remote.keys('music/')).keys()]).toEqual(['music/Album/01 signal motion.mp3']);
  });
});

describe('names against a folder remote', () => {
  it('a file the remote folder holds under the NFD spelling of its name is not copied again', async () => {
    const remote = await folderTarget().fresh();
    const m = await machine(remote);
    const p = 'Sigur Rós/Ágætis byrjun/01 Svefn-g-englar.mp3';
    const bytes = makeMp3({ seed: 'nfd-folder', title: 'Svefn-g-englar' });
    await mkdir(join(m.lib, dirname(p)), { recursive: true });
    await writeFile(join(m.lib, p), bytes);
    // As a Mac (or another tool) left it on a shared disk.
    const nfd = join(remote.url, 'music', ...p.normalize('NFD').split('/'));
    await mkdir(dirname(nfd), { recursive: true });
    await writeFile(nfd, bytes);

    const push = await cliJson(m.env, 'push', m.lib, remote.url);
    expect(push.code, push.stderr).toBe(0);
    expect(done(push)).toEqual([]);
    expect(push.json.summary.unchanged).toBe(1);
    expect([...(await remote.keys('music/')).keys()]).toEqual([`music/${p.normalize('NFD')}`]);
  });
});
