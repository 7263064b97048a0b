/** The CLI's client against a real control server (over a fake service) found through a real service folder. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeControl } from '../../test/support/fake-control.js';
import { UsageError } from '../errors.js';
import { startControlServer, type ControlServer } from '../service/control-api.js';
import { createToken, writeServiceInfo } from '../service/service-files.js';
import type { ServiceEvent } from '../service/service-events.js';
import { ServiceClient } from './service-client.js';

describe('ServiceClient', () => {
  const f = fakeControl();
  const dir = mkdtempSync(join(tmpdir(), 'cs-client-'));
  let server: ControlServer;
  const info = (port: number, pid = process.pid) => ({ pid, port, startedAt: 1, configFile: '/c.json', library: '/music', version: '0.1.0' });

  beforeAll(async () => {
    server = await startControlServer(f.control, { token: createToken(dir) });
    writeServiceInfo(dir, info(server.port));
  });
  afterAll(async () => {
    await server.close();
  });

  it('finds no service without service.json, or when its process died', async () => {
    expect(await ServiceClient.find(mkdtempSync(join(tmpdir(), 'cs-client-')))).toBeUndefined();
    const stale = mkdtempSync(join(tmpdir(), 'cs-client-'));
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
    createToken(stale);
    writeServiceInfo(stale, info(1, dead));
    expect(await ServiceClient.find(stale)).toBeUndefined();
  });

  it('asks the status and sends commands', async () => {
    const c = (await ServiceClient.find(dir))!;
    expect(c.info.port).toBe(server.port);
    await c.health();
    expect((await c.status()).state).toBe('idle');
    await c.post('/api/pause');
    await c.post('/api/rescan');
    expect(f.calls).toEqual(['pause', 'rescan']);
  });

  it('asks for a run, and follows its events until told to stop', async () => {
    const c = (await ServiceClient.find(dir))!;
    const accepted = await c.run({ direction: 'push', include: ['a/**'] });
    expect(f.runs.at(-1)).toEqual({ direction: 'push', include: ['a/**'] });
    f.events.emit({ type: 'state', state: 'syncing' });
    f.events.emit({ type: 'queue', length: 2, failing: 0 });
    const seen: ServiceEvent[] = [];
    const following = c.follow(accepted.since, (e) => {
      seen.push(e);
      return e.type === 'state' && e.state === 'idle';
    });
    f.events.emit({ type: 'state', state: 'idle' });
    f.events.emit({ type: 'stopping' }); // after the end: not seen
    await following;
    expect(seen.map((e) => e.type)).toEqual(['state', 'queue', 'state']);
    expect(seen.map((e) => e.id)).toEqual([accepted.since + 1, accepted.since + 2, accepted.since + 3]);
  });

  it('ends follow when the signal aborts', async () => {
    const c = (await ServiceClient.find(dir))!;
    const ac = new AbortController();
    const following = c.follow(f.events.lastId, () => false, ac.signal);
    ac.abort();
    await expect(following).resolves.toBeUndefined();
  });

  it('turns a refused request into a UsageError with the service’s one line', async () => {
    const c = (await ServiceClient.find(dir))!;
    await expect(c.run({ direction: 'push', transfers: 13 })).rejects.toThrow(new UsageError('transfers: unlucky'));
  });

  it('says the token was refused, naming the folder', async () => {
    const other = mkdtempSync(join(tmpdir(), 'cs-client-'));
    createToken(other);
    writeServiceInfo(other, info(server.port));
    const c = (await ServiceClient.find(other))!;
    await expect(c.status()).rejects.toThrow(`the cratesync service (pid ${process.pid}, port ${server.port}) refused the token in ${other}`);
  });

  it('says which service does not answer', async () => {
    const gone = mkdtempSync(join(tmpdir(), 'cs-client-'));
    const s = await startControlServer(f.control, { token: createToken(gone) });
    const port = s.port;
    await s.close();
    writeServiceInfo(gone, info(port));
    const c = (await ServiceClient.find(gone))!;
    await expect(c.status()).rejects.toThrow(`the cratesync service (pid ${process.pid}, port ${port}) does not answer: ECONNREFUSED`);
    writeFileSync(join(gone, 'token'), '');
    await expect(ServiceClient.find(gone)).rejects.toThrow(/not a service token/);
  });
});

describe('ServiceClient.dashboardLink', () => {
  it('takes a login link on the service own address, and nothing else', async () => {
    const f = fakeControl();
    const dir = mkdtempSync(join(tmpdir(), 'cs-client-'));
    const server = await startControlServer(f.control, { token: createToken(dir) });
    writeServiceInfo(dir, { pid: process.pid, port: server.port, startedAt: 1, configFile: '/c.json', library: '/music', version: '0.1.0' });
    try {
      const url = await (await ServiceClient.find(dir))!.dashboardLink();
      expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/login/[A-Za-z0-9_-]{43}$`));
    } finally {
      await server.close();
    }

    // Something else on a service's port: what it answers never reaches a browser.
    let answer = '';
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(answer));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const port = (other.address() as AddressInfo).port;
    writeServiceInfo(dir, { pid: process.pid, port, startedAt: 1, configFile: '/c.json', library: '/music', version: '0.1.0' });
    try {
      const c = (await ServiceClient.find(dir))!;
      for (const url of [
        `http://evil.example:${port}/login/${'a'.repeat(43)}`,
        `http://127.0.0.1:${port + 1}/login/${'a'.repeat(43)}`,
        `http://127.0.0.1:${port}/login/${'a'.repeat(43)} & calc`,
        `http://127.0.0.1:${port}/elsewhere`,
        `file:///etc/passwd`,
      ]) {
        answer = JSON.stringify({ url });
        await expect(c.dashboardLink(), url).rejects.toThrow(/answered with no login link/);
      }
      answer = JSON.stringify({ url: 42 });
      await expect(c.dashboardLink()).rejects.toThrow(/answered with no login link/);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});
