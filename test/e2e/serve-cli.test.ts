/**
 * `cratesync serve` and `cratesync serve user …` end to end, as processes:
 * users are added with --password-stdin and listed from the state the server
 * reads; a bad --listen (or a lone TLS flag) is one line and exit 2; a
 * machine with only the bucket (s3rver, no library) serves it, and the users
 * it added log in; Ctrl-C stops the server cleanly; and the service serves
 * too when the config enables it, its status naming the URL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { request } from 'node:https';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeMp3 } from '../fixtures/mp3.js';
import { BIN, cli, cliJson, type CliEnv } from '../support/cli.js';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { startService, waitFor } from '../support/service-process.js';

const CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };
const cleanup: string[] = [];
const tmp = async (name: string) => {
  const d = await mkdtemp(join(tmpdir(), `cs-serve-${name}-`));
  cleanup.push(d);
  return d;
};

let s3: S3rver;
beforeAll(async () => {
  s3 = await startS3rver();
  await s3.createBucket('serveb');
});
afterAll(async () => {
  await s3.stop();
  for (const d of cleanup) await rm(d, { recursive: true, force: true });
});

/** A running `cratesync serve`: the URL it printed, and how to stop it as Ctrl-C does. */
interface Serving {
  url: string;
  line: Record<string, unknown>;
  stderr: () => string;
  /** Sends SIGINT; resolves with the exit code. */
  interrupt(): Promise<number | string>;
}

/** serve starts `cratesync serve …args --json` and waits for the line that says where it listens. */
function serve(e: CliEnv, ...args: string[]): Promise<Serving> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args, '--json'], {
    env: { ...process.env, CRATESYNC_HOME: e.home, AWS_CA_BUNDLE: undefined, NO_COLOR: '1', ...e.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, sig) => resolve(code ?? sig ?? -1)));
  return new Promise((resolve, reject) => {
    void exited.then((code) => reject(new Error(`serve exited (${code}) before it listened\n${stderr}`)));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl < 0) return;
      const line = JSON.parse(stdout.slice(0, nl)) as Record<string, unknown>;
      resolve({
        url: line.url as string,
        line,
        stderr: () => stderr,
        interrupt: () => {
          child.kill('SIGINT');
          return exited;
        },
      });
    });
  });
}

/** A Subsonic request with password auth (`p=enc:` hex, as many apps send it). */
async function rest(url: string, method: string, user: string, password: string, more: Record<string, string> = {}): Promise<any> {
  const q = new URLSearchParams({ u: user, p: `enc:${Buffer.from(password).toString('hex')}`, v: '1.16.1', c: 'e2e', f: 'json', ...more });
  const res = await fetch(`${url}/rest/${method}?${q}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { 'subsonic-response': unknown })['subsonic-response'];
}

describe('cratesync serve', () => {
  it('keeps users added with --password-stdin in the state it serves from; lists, keys and removes them', async () => {
    const e: CliEnv = { home: await tmp('home') };
    const remote = await tmp('remote');
    const add = await cli({ ...e, input: 'correct horse\n' }, 'serve', 'user', 'add', 'alice', '--password-stdin', '--remote', remote);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(add.stdout).toContain('added alice');
    const list = await cliJson(e, 'serve', 'user', 'list', '--remote', remote);
    expect(list.code).toBe(0);
    expect(list.json.users).toEqual([{ name: 'alice', created: expect.any(String), apiKey: false }]);
    // Another remote's state has users of its own.
    expect((await cliJson(e, 'serve', 'user', 'list', '--remote', await tmp('other'))).json.users).toEqual([]);

    const again = await cli({ ...e, input: 'x\n' }, 'serve', 'user', 'add', 'alice', '--password-stdin', '--remote', remote);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('cratesync: serve user alice exists already\n');
    const empty = await cli({ ...e, input: '\n' }, 'serve', 'user', 'add', 'bob', '--password-stdin', '--remote', remote);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('cratesync: the password is empty; nothing was changed\n');

    const key = await cli(e, 'serve', 'user', 'key', 'alice', '--remote', remote);
    expect(key.code).toBe(0);
    expect(key.stdout.trim()).toMatch(/^\S{20,}$/);
    expect(key.stderr).toMatch(/shown this once/);
    expect((await cliJson(e, 'serve', 'user', 'list', '--remote', remote)).json.users[0].apiKey).toBe(true);

    expect((await cli(e, 'serve', 'user', 'remove', 'alice', '--remote', remote)).code).toBe(0);
    const gone = await cli(e, 'serve', 'user', 'remove', 'alice', '--remote', remote);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe('cratesync: no serve user alice (cratesync serve user list shows them)\n');
    expect((await cli(e, 'serve', 'user', 'list', '--remote', remote)).stdout).toBe('no users yet (cratesync serve user add NAME adds one)\n');
  });

  it('refuses a bad --listen and a lone TLS flag in one line, before opening anything', async () => {
    const e: CliEnv = { home: await tmp('home') };
    const remote = await tmp('remote');
    for (const [listen, why] of [
      ['4533', 'must be host:port'],
      ['127.0.0.1:70000', 'port 70000 is out of range'],
      ['my host:80', '"my host" is not an IP address or host name'],
    ] as const) {
      const r = await cli(e, 'serve', remote, '--listen', listen);
      expect(r.code, listen).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(r.stderr).toContain(`cratesync: --listen "${listen}": ${why}`);
    }
    const lone = await cli(e, 'serve', remote, '--tls-cert', 'cert.pem');
    expect(lone.code).toBe(2);
    expect(lone.stderr).toBe('cratesync: --tls-cert and --tls-key go together: give both or neither\n');
    const unreadable = await cli(e, 'serve', remote, '--listen', '127.0.0.1:0', '--tls-cert', join(remote, 'no-cert.pem'), '--tls-key', join(remote, 'no-key.pem'));
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toBe(`cratesync: ${join(remote, 'no-cert.pem')}: cannot read the TLS certificate: no such file\n`);
  });

  it('serves a bucket from a machine with no library: its users log in, a wrong password is error 40, Ctrl-C stops it', async () => {
    const env = { ...CREDS };
    const bucket = 's3://serveb/dj';
    // Machine one pushes a track; machine two has only the bucket.
    const one: CliEnv = { home: await tmp('one'), env };
    const lib = await tmp('lib');
    await mkdir(join(lib, 'house'), { recursive: true });
    await writeFile(join(lib, 'house', 'a.mp3'), makeMp3({ artist: 'Air', title: 'Sexy Boy', album: 'Moon Safari', year: 1998, seed: 1 }));
    expect((await cli(one, 'push', lib, bucket, '--endpoint', s3.endpoint)).code).toBe(0);

    const two: CliEnv = { home: await tmp('two'), env };
    expect((await cli({ ...two, input: 'pässword\n' }, 'serve', 'user', 'add', 'carol', '--password-stdin', '--remote', bucket, '--endpoint', s3.endpoint)).code).toBe(0);
    const s = await serve(two, bucket, '--endpoint', s3.endpoint, '--listen', '127.0.0.1:0');
    expect(s.line).toEqual({ url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), remote: bucket, users: 1 });
    // Public, no credentials needed.
    const ping = (await (await fetch(`${s.url}/rest/ping.view?v=1.16.1&c=e2e&f=json`)).json()) as any;
    expect(ping['subsonic-response'].status).toBe('ok');
    const me = await rest(s.url, 'getUser', 'carol', 'pässword', { username: 'carol' });
    expect(me.status).toBe('ok');
    expect(me.user.username).toBe('carol');
    const wrong = await rest(s.url, 'getUser', 'carol', 'wrong', { username: 'carol' });
    expect(wrong.error.code).toBe(40);
    expect(s.stderr()).not.toContain('warning: serving');
    expect(await s.interrupt()).toBe(0);
    // The address is free again.
    await expect(fetch(`${s.url}/rest/ping`)).rejects.toThrow();
  });

  it('serves HTTPS with --tls-cert and --tls-key, and says nothing of plain-text risk', async () => {
    const e: CliEnv = { home: await tmp('home') };
    const remote = await tmp('remote');
    await mkdir(join(remote, 'music'));
    const certs = await tmp('tls');
    const [cert, key] = [join(certs, 'cert.pem'), join(certs, 'key.pem')];
    // A self-signed certificate for 127.0.0.1 (openssl is Debian's, as in CI).
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const s = await serve(e, remote, '--listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key);
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = await readFile(cert);
    const body = await new Promise<string>((resolve, reject) => {
      request(`${s.url}/rest/ping?v=1.16.1&c=e2e&f=json`, { ca }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
      })
        .on('error', reject)
        .end();
    });
    expect(JSON.parse(body)['subsonic-response'].status).toBe('ok');
    expect(await s.interrupt()).toBe(0);
    expect(s.stderr()).not.toContain('without TLS');
    // A key that is no key: one line naming both files.
    await writeFile(key, 'not a key\n');
    const bad = await cli(e, 'serve', remote, '--listen', '127.0.0.1:0', '--tls-cert', cert, '--tls-key', key);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`cratesync: cannot serve on 127.0.0.1:0: the TLS files ${cert} and ${key} are not a usable certificate and key`);
  });

  it('says how to add a user when there is none', async () => {
    const e: CliEnv = { home: await tmp('home') };
    const remote = await tmp('remote');
    await mkdir(join(remote, 'music'));
    const child = spawn(process.execPath, [BIN, 'serve', remote, '--listen', '127.0.0.1:0'], { env: { ...process.env, CRATESYNC_HOME: e.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.on('exit', (code) => reject(new Error(`exited ${code}`)));
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve(out);
      });
    });
    child.kill('SIGINT');
    expect(line).toMatch(/^serving file:\/\/\S+ to Subsonic apps at http:\/\/127\.0\.0\.1:\d+ \(Ctrl-C stops\); no users yet: add one with cratesync serve user add NAME\n$/);
  });
});

describe('the service serving', () => {
  it('serves when the config enables it, shows the URL in service status, follows a reload, and stops serving with the service', async () => {
    const home = await tmp('svc');
    const lib = await tmp('svclib');
    const remote = await tmp('svcremote');
    await writeFile(join(lib, 'a.mp3'), makeMp3({ artist: 'Air', title: 'Kelly', album: 'Moon Safari', seed: 2 }));
    const config = join(home, 'config.json');
    await writeFile(config, JSON.stringify({ library: lib, remote, serve: { enabled: true, listen: '127.0.0.1:0' } }));
    const e: CliEnv = { home };
    // The users of the library's state: the service serves from it.
    expect((await cli({ ...e, input: 'pw\n' }, '--config', config, 'serve', 'user', 'add', 'dan', '--password-stdin')).code).toBe(0);
    const svc = await startService(home, config);
    try {
      const st = await waitFor('the subsonic server to start', async () => {
        const v = await svc.status();
        return v.subsonic?.state === 'starting' ? undefined : v;
      });
      expect(st.subsonic).toEqual({ state: 'serving', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) });
      const url = st.subsonic.url as string;
      expect((await rest(url, 'getUser', 'dan', 'pw', { username: 'dan' })).user.username).toBe('dan');
      const status = await cli(e, '--config', config, 'service', 'status');
      expect(status.stdout).toContain(`  subsonic serving at ${url}\n`);
      // A reload with serving turned off stops the server; syncing goes on.
      await writeFile(config, JSON.stringify({ library: lib, remote, serve: { enabled: false } }));
      expect((await svc.api('/api/reload', { method: 'POST' })).ok).toBe(true);
      await waitFor('the subsonic server to stop', async () => (await svc.status()).subsonic === undefined);
      await expect(fetch(`${url}/rest/ping`)).rejects.toThrow();
      // And on again: it serves at once, on a port of its own choosing.
      await writeFile(config, JSON.stringify({ library: lib, remote, serve: { enabled: true, listen: '127.0.0.1:0' } }));
      expect((await svc.api('/api/reload', { method: 'POST' })).ok).toBe(true);
      const again = await waitFor('the subsonic server to start again', async () => {
        const v = await svc.status();
        return v.subsonic?.state === 'serving' ? (v.subsonic.url as string) : undefined;
      });
      expect((await rest(again!, 'ping', 'dan', 'pw')).status).toBe('ok');
      await svc.api('/api/stop', { method: 'POST' });
      await svc.exited;
      await expect(fetch(`${again}/rest/ping`)).rejects.toThrow();
    } finally {
      svc.child.kill('SIGKILL');
    }
  });
});
