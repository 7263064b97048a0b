/**
 * The crew's registry and notifications end to end: the real CLI against
 * s3rver, a webhook receiver on 127.0.0.1. A push of a library too big for
 * one message is told in several, every uploaded file once; a failing
 * webhook is a warning and never a failed push; the webhook's URL (a secret)
 * never shows in the output; `user register` and `user list` show the
 * machine, and a push refreshes it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3 } from '../fixtures/mp3.js';
import { cli, cliJson, type CliEnv } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const SECRET = 'T0pS3cr3t-webhook-token';
const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-${name}-`));

let server: S3rver;
let buckets = 0;
beforeAll(async () => {
  server = await startS3rver();
});
afterAll(() => server.stop());

async function freshBucket(): Promise<string> {
  const bucket = `notify${++buckets}`;
  await server.createBucket(bucket);
  return `s3://${bucket}/dj`;
}

interface Receiver {
  url: string;
  messages: string[];
  close(): Promise<void>;
}

/** receiver takes webhook POSTs at a URL holding SECRET, answering each with `status`. */
async function receiver(status: number): Promise<Receiver> {
  const messages: string[] = [];
  const srv: Server = createServer((req, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8').on('data', (s: string) => (text += s));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === `/api/webhooks/1/${SECRET}`) messages.push((JSON.parse(text) as { content: string }).content);
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/api/webhooks/1/${SECRET}`, messages, close: () => new Promise((r) => srv.close(() => r())) };
}

/** fileLines are the uploaded files a message lists, as `folder/name` (markdown escapes undone). */
function listed(messages: string[]): string[] {
  const out: string[] = [];
  const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
  for (const m of messages) {
    let folder = '';
    for (const line of m.split('\n')) {
      const h = /^\*\*(.*)\*\*( \(continued\))?$/.exec(line);
      if (h) folder = unescape(h[1]!);
      else if (line.startsWith('- ')) out.push(`${folder}/${unescape(line.slice(2))}`);
    }
  }
  return out.sort();
}

async function machine(name: string, extra: Record<string, string | undefined> = {}): Promise<{ lib: string; env: CliEnv }> {
  return { lib: await tmp(`lib-${name}`), env: { home: await tmp(`home-${name}`), env: { ...CREDS, AWS_ENDPOINT_URL: server.endpoint, ...extra } } };
}

describe('upload notifications', () => {
  it('a push tells the webhook of every uploaded file once, in several messages under 2,000 characters', async () => {
    const url = await freshBucket();
    const hook = await receiver(204);
    try {
      const m = await machine('alice', { CRATESYNC_WEBHOOK: hook.url });
      const files = (await makeLibrary(m.lib, { albums: 16, tracksPerAlbum: 8, flacShare: 0.25, seed: 'notify' })).sort();
      const r = await cli(m.env, 'push', m.lib, url, '--user', 'alice');
      expect(r.code, r.stderr).toBe(0);
      expect(hook.messages.length).toBeGreaterThanOrEqual(2);
      for (const msg of hook.messages) expect(msg.length).toBeLessThan(2000);
      expect(hook.messages[0]).toMatch(new RegExp(`^\\*\\*alice@[a-z0-9-]+\\*\\* uploaded ${files.length} files\\n`));
      expect(listed(hook.messages)).toEqual(files);
      for (const out of [r.stdout, r.stderr]) expect(out).not.toContain(SECRET);

      // A push with nothing new tells nothing; one new file is one short message.
      const before = hook.messages.length;
      const again = await cli(m.env, 'push', m.lib, url, '--user', 'alice');
      expect(again.code, again.stderr).toBe(0);
      expect(hook.messages).toHaveLength(before);
      await writeFile(join(m.lib, 'Fresh.mp3'), makeMp3({ seed: 'fresh' }));
      const one = await cli(m.env, 'push', m.lib, url, '--user', 'alice');
      expect(one.code, one.stderr).toBe(0);
      expect(hook.messages.slice(before)).toEqual([expect.stringMatching(/uploaded 1 file\n\*\*\(library root\)\*\*\n- Fresh\.mp3$/)]);
    } finally {
      await hook.close();
    }
  });

  it('a webhook answering 500 is a warning without its URL; the push exits 0', async () => {
    const url = await freshBucket();
    const hook = await receiver(500);
    try {
      const m = await machine('bob');
      // From the config this time (CRATESYNC_WEBHOOK unset).
      const config = join(m.env.home, 'config.json');
      await writeFile(config, JSON.stringify({ notify: { webhook: hook.url } }));
      await makeLibrary(m.lib, { albums: 2, tracksPerAlbum: 2, seed: 'fail' });
      const r = await cli({ ...m.env, env: { ...m.env.env, CRATESYNC_WEBHOOK: undefined } }, 'push', m.lib, url, '--user', 'bob');
      expect(r.code, r.stderr).toBe(0);
      expect(hook.messages).toHaveLength(1);
      expect(r.stderr).toMatch(/^warning: notify: webhook http:\/\/127\.0\.0\.1:\d+\/… failed: 500$/m);
      expect(r.stdout).toMatch(/^push: 4 uploaded/m);
      for (const out of [r.stdout, r.stderr]) expect(out).not.toContain(SECRET);
      for (const out of [r.stdout, r.stderr]) expect(out).not.toContain('/api/webhooks');
      // The --json output too.
      await writeFile(join(m.lib, 'Fresh.mp3'), makeMp3({ seed: 'fresh-bob' }));
      const j = await cliJson({ ...m.env, env: { ...m.env.env, CRATESYNC_WEBHOOK: undefined } }, 'push', m.lib, url, '--user', 'bob');
      expect(j.code, j.stderr).toBe(0);
      expect(j.json.summary.uploaded).toBe(1);
      expect(j.stdout + j.stderr).not.toContain(SECRET);
    } finally {
      await hook.close();
    }
  });

  it('a webhook nobody answers, or a bad CRATESYNC_WEBHOOK, is a warning too', async () => {
    const url = await freshBucket();
    const hook = await receiver(204);
    await hook.close();
    const m = await machine('carol', { CRATESYNC_WEBHOOK: hook.url });
    await makeLibrary(m.lib, { albums: 1, tracksPerAlbum: 2, seed: 'gone' });
    const r = await cli(m.env, 'push', m.lib, url, '--user', 'carol');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: notify: webhook http:\/\/127\.0\.0\.1:\d+\/… failed: ECONNREFUSED$/m);
    expect(r.stderr).not.toContain(SECRET);

    await writeFile(join(m.lib, 'Fresh.mp3'), makeMp3({ seed: 'fresh-carol' }));
    const bad = await cli({ ...m.env, env: { ...m.env.env, CRATESYNC_WEBHOOK: `ftp://${SECRET}` } }, 'push', m.lib, url, '--user', 'carol');
    expect(bad.code, bad.stderr).toBe(0);
    expect(bad.stderr).toMatch(/^warning: notify: CRATESYNC_WEBHOOK is not an http:\/\/ or https:\/\/ URL$/m);
    expect(bad.stderr).not.toContain(SECRET);
  });

  it('a config webhook that is no http(s) URL is refused, naming the key and not the value', async () => {
    const m = await machine('dave');
    await writeFile(join(m.env.home, 'config.json'), JSON.stringify({ notify: { webhook: `ftp://host/${SECRET}` } }));
    const r = await cli(m.env, 'user', 'list', await freshBucket());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/config\.json: notify\.webhook: must be an http:\/\/ or https:\/\/ URL/);
    expect(r.stderr).not.toContain(SECRET);
  });
});

describe('users registry', () => {
  it('user register, then user list shows the machine; a push refreshes lastSeen; a second user appears beside', async () => {
    const url = await freshBucket();
    const a = await machine('reg-a');
    await makeLibrary(a.lib, { albums: 1, tracksPerAlbum: 2, seed: 'reg' });
    const reg = await cli(a.env, 'user', 'register', url, '--library', a.lib, '--user', 'alice');
    expect(reg.code, reg.stderr).toBe(0);
    expect(reg.stdout).toMatch(/^registered alice@[a-z0-9-]+ \(/);

    const first = await cliJson(a.env, 'user', 'list', url);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.problems).toEqual([]);
    expect(first.json.users).toHaveLength(1);
    const [mine] = first.json.users[0].machines;
    expect(first.json.users[0].name).toBe('alice');
    expect(mine).toMatchObject({ os: 'linux', root: a.lib, version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(mine.firstSeen).toBe(mine.lastSeen);

    // The push runs under the same machine id, and moves lastSeen only.
    const push = await cli(a.env, 'push', a.lib, url, '--user', 'alice');
    expect(push.code, push.stderr).toBe(0);
    const after = await cliJson(a.env, 'user', 'list', url);
    expect(after.json.users[0].machines).toHaveLength(1);
    const refreshed = after.json.users[0].machines[0];
    expect(refreshed.id).toBe(mine.id);
    expect(refreshed.firstSeen).toBe(mine.firstSeen);
    expect(Date.parse(refreshed.lastSeen)).toBeGreaterThan(Date.parse(mine.lastSeen));

    // A second user's first push registers her; the table lists both.
    const b = await machine('reg-b');
    await makeLibrary(b.lib, { albums: 1, tracksPerAlbum: 1, seed: 'reg-b' });
    expect((await cli(b.env, 'push', b.lib, url, '--user', 'bea')).code).toBe(0);
    const table = await cli(a.env, 'user', 'list', url);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^USER\s+MACHINE\s+OS\s+LIBRARY ROOT\s+LAST SEEN\s+FIRST SEEN$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(['alice', 'bea']);
    expect(rows[1]).toContain(a.lib);
    expect(rows[2]).toContain(b.lib);
    expect(rows[2]).toMatch(/just now/);
  });

  it('a dry run and a pull do not register; a bad --user is refused before it becomes a key', async () => {
    const url = await freshBucket();
    const a = await machine('dry');
    await makeLibrary(a.lib, { albums: 1, tracksPerAlbum: 1, seed: 'dry' });
    expect((await cli(a.env, 'push', a.lib, url, '--user', 'alice', '--dry-run')).code).toBe(0);
    expect((await cli(a.env, 'pull', a.lib, url, '--user', 'alice')).code).toBe(0);
    expect((await cliJson(a.env, 'user', 'list', url)).json.users).toEqual([]);

    const bad = await cli(a.env, 'user', 'register', url, '--library', a.lib, '--user', '../evil');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--user "\.\.\/evil": must be 1–64 letters/);
    const push = await cli(a.env, 'push', a.lib, url, '--user', '../evil');
    expect(push.code, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/^warning: users registry not updated: --user "\.\.\/evil"/m);
    expect((await cliJson(a.env, 'user', 'list', url)).json.users).toEqual([]);
  });

  it('user list names a forged object on stderr and exits 1, listing the others', async () => {
    const url = await freshBucket();
    const a = await machine('forged');
    await makeLibrary(a.lib, { albums: 1, tracksPerAlbum: 1, seed: 'forged' });
    expect((await cli(a.env, 'user', 'register', url, '--library', a.lib, '--user', 'alice')).code).toBe(0);
    // Any crew member can write anything under the bucket: here an object claiming to be alice's.
    const bucket = url.slice('s3://'.length, url.indexOf('/', 's3://'.length));
    const { s3Client } = await import('../support/s3-objects.js');
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = s3Client(server.endpoint);
    try {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dj/.cratesync/users/mallory.json', Body: JSON.stringify({ v: 1, name: 'alice', machines: [] }) }));
    } finally {
      s3.destroy();
    }
    const r = await cli(a.env, 'user', 'list', url);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^warning: \.cratesync\/users\/mallory\.json: not a user object: its name "alice" is not the one its key names/m);
    expect(r.stdout.trim().split('\n').slice(1).map((row) => row.split(/\s+/)[0])).toEqual(['alice']);
  });
});
