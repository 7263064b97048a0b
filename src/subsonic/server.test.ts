import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { xmlProblems } from '../../test/support/xmllint.js';
import { openStateDb, type Db } from '../state/state-db.js';
import { ServeUsers } from '../state/serve-users.js';
import { notFound } from './api-error.js';
import { RateLimiter } from './rate-limit.js';
import type { RouteTable, ServeContext } from './route-types.js';
import { listenSubsonic, subsonicApp, type SubsonicListener } from './server.js';
import { systemRoutes } from './system-routes.js';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

const testRoutes: RouteTable = {
  echo: (req) => ({ echo: { user: req.user.name, method: req.method, id: req.params.all('id').map((value) => ({ value })) } }),
  boom: () => {
    throw new Error('ENOENT: /home/bob/secret/path.mp3');
  },
  missing: () => {
    throw notFound('Song');
  },
  binary: () => new Response('RIFF-bytes', { status: 206, headers: { 'Content-Type': 'audio/wav' } }),
  // A fetch() answer has immutable headers: what a proxying handler may hand back.
  proxied: () => fetch(`${base}/rest/ping?f=json`),
};

let dir: string;
let db: Db;
let users: ServeUsers;
let apiKey: string;
let server: SubsonicListener;
let base: string;
let refreshes = 0;
const logLines: string[] = [];
let clock = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'subsonic-server-'));
  db = openStateDb(join(dir, 'state.db'));
  users = new ServeUsers(db, join(dir, 'serve.key'));
  users.add('bob', 'sésame ouvre-toi');
  users.add('eve', 'eve-pass');
  apiKey = users.newApiKey('bob');
  const serve = {
    refresh: async () => {
      refreshes++;
    },
  } as unknown as ServeContext;
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  // Every request comes from 127.0.0.1: this server's limiter is loose enough for the
  // tests that fail on purpose; the rate-limit test runs a server of its own.
  const limiter = new RateLimiter({ maxFailures: 1000, maxUserFailures: 1000, now: () => clock });
  const app = subsonicApp(serve, { users, limiter, log, routes: [systemRoutes, testRoutes], serverVersion: '7.7.7' });
  server = await listenSubsonic(app, { host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const BOB = { u: 'bob', p: 'sésame ouvre-toi' };

async function call(method: string, params: Record<string, string> = {}, init?: RequestInit): Promise<Response> {
  return fetch(`${base}/rest/${method}?${new URLSearchParams(params)}`, init);
}

async function json(method: string, params: Record<string, string> = {}): Promise<Record<string, unknown>> {
  const res = await call(method, { ...params, f: 'json' });
  expect(res.status).toBe(200);
  return ((await res.json()) as { 'subsonic-response': Record<string, unknown> })['subsonic-response'];
}

describe('subsonic server', () => {
  it('answers ping without credentials, as well-formed XML in the envelope', async () => {
    const res = await call('ping');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const xml = await res.text();
    expect(xmlProblems(xml)).toBe('');
    expect(xml).toContain('<subsonic-response xmlns="http://subsonic.org/restapi" status="ok" version="1.16.1" type="cratesync" serverVersion="7.7.7" openSubsonic="true"/>');
  });

  it('answers getLicense and getOpenSubsonicExtensions without credentials', async () => {
    expect(await json('getLicense')).toMatchObject({ status: 'ok', license: { valid: true } });
    const ext = await json('getOpenSubsonicExtensions');
    expect(ext.openSubsonicExtensions).toEqual(expect.arrayContaining([{ name: 'formPost', versions: [1] }, { name: 'apiKeyAuthentication', versions: [1] }]));
    expect(JSON.stringify(ext)).not.toContain('transcodeOffset');
  });

  it('checks credentials a public method is given: ping tells a client its password is wrong', async () => {
    expect(await json('ping', { u: 'bob', p: 'wrong' })).toMatchObject({ status: 'failed', error: { code: 40 } });
    expect(await json('ping', BOB)).toMatchObject({ status: 'ok' });
  });

  it('accepts each form of credentials', async () => {
    const forms: Array<Record<string, string>> = [
      BOB,
      { u: 'bob', p: `enc:${Buffer.from('sésame ouvre-toi').toString('hex')}` },
      { u: 'bob', t: md5('sésame ouvre-toi' + 'c19b2d'), s: 'c19b2d' },
      { apiKey },
    ];
    for (const creds of forms) {
      expect(await json('echo', creds), JSON.stringify(creds)).toMatchObject({ status: 'ok', echo: { user: 'bob', method: 'echo' } });
    }
  });

  it('refuses wrong and missing credentials with their codes', async () => {
    expect(await json('echo', { u: 'bob', p: 'nope' })).toMatchObject({ status: 'failed', error: { code: 40, message: 'Wrong username or password' } });
    expect(await json('echo', { u: 'bob', t: md5('nope' + 'salt'), s: 'salt' })).toMatchObject({ error: { code: 40 } });
    expect(await json('echo', { u: 'nobody', p: 'sésame ouvre-toi' })).toMatchObject({ error: { code: 40, message: 'Wrong username or password' } });
    expect(await json('echo', { apiKey, u: 'bob' })).toMatchObject({ error: { code: 43 } });
    expect(await json('echo', { apiKey: 'cs_forged' })).toMatchObject({ error: { code: 44 } });
    expect(await json('echo')).toMatchObject({ error: { code: 10 } });
  });

  it('refreshes the index before each authenticated handler, never for a refused request', async () => {
    const before = refreshes;
    await json('echo', BOB);
    expect(refreshes).toBe(before + 1);
    await json('echo', { u: 'bob', p: 'nope' });
    await json('ping');
    expect(refreshes).toBe(before + 1);
  });

  it('takes the .view suffix', async () => {
    const res = await call('echo.view', BOB);
    const xml = await res.text();
    expect(xmlProblems(xml)).toBe('');
    expect(xml).toContain('<echo user="bob" method="echo"/>');
  });

  it('takes a POSTed form, merged with the query (formPost)', async () => {
    const res = await fetch(`${base}/rest/echo.view?f=json&id=a`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: new URLSearchParams({ ...BOB, id: 'b' }).toString() + '&id=c',
    });
    const body = ((await res.json()) as { 'subsonic-response': unknown })['subsonic-response'];
    expect(body).toMatchObject({ status: 'ok', echo: { user: 'bob', id: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] } });
  });

  it('refuses a form body past the limit', async () => {
    const res = await fetch(`${base}/rest/echo?f=json`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `u=bob&p=x&pad=${'x'.repeat(300 * 1024)}`,
    });
    expect(((await res.json()) as { 'subsonic-response': unknown })['subsonic-response']).toMatchObject({ status: 'failed', error: { code: 0 } });
  });

  it('answers f=jsonp as a script calling the callback; a bad callback is refused as JSON', async () => {
    const res = await call('ping', { f: 'jsonp', callback: 'cb' });
    expect(res.headers.get('content-type')).toBe('application/javascript');
    expect(await res.text()).toMatch(/^\/\*\*\/cb\(\{"subsonic-response":\{"status":"ok"/);
    const bad = await call('ping', { f: 'jsonp', callback: 'alert(document.cookie)//' });
    expect(bad.headers.get('content-type')).toBe('application/json');
    expect(await bad.text()).not.toContain('alert');
  });

  it('answers an unknown method as error 0 in the asked format, HTTP 200, before any authentication', async () => {
    const res = await call('getNothing.view', { f: 'json' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { 'subsonic-response': unknown })['subsonic-response']).toMatchObject({ status: 'failed', error: { code: 0, message: 'Unknown method' } });
    const xml = await (await call('getNothing')).text();
    expect(xmlProblems(xml)).toBe('');
    expect(xml).toContain('<error code="0" message="Unknown method"/>');
  });

  it('maps a protocol error to its code, anything else to code 0 with the detail only in the log', async () => {
    expect(await json('missing', BOB)).toMatchObject({ status: 'failed', error: { code: 70, message: 'Song not found' } });
    const res = await call('boom', { ...BOB, f: 'json' });
    const text = await res.text();
    expect(JSON.parse(text)['subsonic-response']).toMatchObject({ status: 'failed', error: { code: 0, message: 'Internal error' } });
    expect(text).not.toContain('secret');
    expect(logLines.join('')).toContain('/home/bob/secret/path.mp3');
  });

  it('passes a handler\'s own Response through', async () => {
    const res = await call('binary', BOB);
    expect(res.status).toBe(206);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(await res.text()).toBe('RIFF-bytes');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const proxied = await call('proxied', BOB, { headers: { Origin: 'https://player.example' } });
    expect(proxied.headers.get('access-control-allow-origin')).toBe('*');
    expect(await proxied.json()).toMatchObject({ 'subsonic-response': { status: 'ok' } });
  });

  it('allows any origin (credentials are parameters, never cookies), preflight included', async () => {
    const res = await call('ping', {}, { headers: { Origin: 'https://player.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const pre = await fetch(`${base}/rest/stream.view`, { method: 'OPTIONS', headers: { Origin: 'https://player.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'range' } });
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('getUser answers the user itself and refuses another (50)', async () => {
    expect(await json('getUser', { ...BOB, username: 'bob' })).toMatchObject({ user: { username: 'bob', streamRole: true, adminRole: false, settingsRole: false, folder: [1] } });
    expect(await json('getUser', { ...BOB, username: 'eve' })).toMatchObject({ error: { code: 50 } });
    expect(await json('getUsers', BOB)).toMatchObject({ users: { user: [{ username: 'bob' }] } });
    const xml = await (await call('getUser', { ...BOB, username: 'bob' })).text();
    expect(xmlProblems(xml)).toBe('');
    expect(xml).toContain('<folder>1</folder>');
  });

  it('logs method, user and outcome, never the credentials', async () => {
    await call('echo', { u: 'bob', t: md5('sésame ouvre-toi' + 'zz9911'), s: 'zz9911' });
    const all = logLines.join('');
    expect(all).toContain('"method":"echo"');
    expect(all).toContain('"user":"bob"');
    for (const secret of ['sésame', 'ouvre', 'zz9911', md5('sésame ouvre-toi' + 'zz9911'), apiKey, 'nope']) expect(all).not.toContain(secret);
  });

  it('answers HEAD like GET, without a body', async () => {
    const res = await call('ping', {}, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    expect(await res.text()).toBe('');
  });

  it('refuses a method in two route tables', () => {
    expect(() => subsonicApp({} as ServeContext, { users, limiter: new RateLimiter(), log: pino({ level: 'silent' }), routes: [systemRoutes, { ping: () => ({}) }] })).toThrow(/ping is in two route tables/);
  });
});

describe('subsonic server rate limit', () => {
  it('refuses an address after repeated failures, even with the right password, until the backoff passes', async () => {
    let now = 0;
    const limiter = new RateLimiter({ maxFailures: 3, backoffMs: 60_000, now: () => now });
    const app = subsonicApp({ refresh: async () => {} } as unknown as ServeContext, { users, limiter, log: pino({ level: 'silent' }), routes: [systemRoutes, testRoutes] });
    const s = await listenSubsonic(app, { host: '127.0.0.1', port: 0 });
    try {
      const ask = async (params: Record<string, string>) =>
        ((await (await fetch(`http://127.0.0.1:${s.port}/rest/echo?${new URLSearchParams({ ...params, f: 'json' })}`)).json()) as { 'subsonic-response': { status: string; error?: { code: number; message: string } } })['subsonic-response'];
      for (let i = 0; i < 3; i++) expect((await ask({ u: 'eve', p: 'guess' + i })).error?.message).toBe('Wrong username or password');
      const refused = await ask({ u: 'eve', p: 'eve-pass' });
      expect(refused.error?.code).toBe(40);
      expect(refused.error?.message).toMatch(/Too many failed login attempts; wait 60 s/);
      expect((await ask({ apiKey })).error?.message).toMatch(/Too many failed/);
      now += 60_000;
      expect(await ask({ u: 'eve', p: 'eve-pass' })).toMatchObject({ status: 'ok' });
    } finally {
      await s.close();
    }
  });
});

describe('listenSubsonic', () => {
  it('serves HTTPS when given a certificate and key', async () => {
    const tls = mkdtempSync(join(tmpdir(), 'subsonic-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(tls, 'key.pem'), '-out', join(tls, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
      const cert = readFileSync(join(tls, 'cert.pem'));
      const app = subsonicApp({ refresh: async () => {} } as unknown as ServeContext, { users, limiter: new RateLimiter(), log: pino({ level: 'silent' }), routes: [systemRoutes] });
      const s = await listenSubsonic(app, { host: '127.0.0.1', port: 0, tls: { cert, key: readFileSync(join(tls, 'key.pem')) } });
      try {
        const body = await new Promise<string>((resolve, reject) => {
          const req = httpsRequest({ host: '127.0.0.1', port: s.port, path: '/rest/ping.view?f=json', ca: cert, servername: 'localhost' }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (text += d));
            res.on('end', () => resolve(text));
          });
          req.on('error', reject);
          req.end();
        });
        expect(JSON.parse(body)['subsonic-response']).toMatchObject({ status: 'ok' });
      } finally {
        await s.close();
      }
    } finally {
      rmSync(tls, { recursive: true, force: true });
    }
  });

  it('rejects when the port is taken', async () => {
    const app = subsonicApp({ refresh: async () => {} } as unknown as ServeContext, { users, limiter: new RateLimiter(), log: pino({ level: 'silent' }), routes: [systemRoutes] });
    await expect(listenSubsonic(app, { host: '127.0.0.1', port: server.port })).rejects.toThrow(/EADDRINUSE/);
  });
});
