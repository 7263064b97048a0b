/**
 * The control API over real HTTP on 127.0.0.1, in front of a fake
 * ServiceControl that records what it was asked: the security checks (token,
 * Host, Origin), the routes, long-poll and Server-Sent Events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { fakeControl } from '../../test/support/fake-control.js';
import { ConfigError } from '../errors.js';
import { startControlServer, type ControlServer } from './control-api.js';

const TOKEN = 'a'.repeat(43);

/** A raw request with any headers (fetch forbids setting Host). */
function raw(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('control API', () => {
  const f = fakeControl();
  let server: ControlServer;
  let base: string;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = (path: string, headers: Record<string, string> = auth) => fetch(base + path, { headers });
  const post = (path: string, body?: unknown, headers: Record<string, string> = auth) =>
    fetch(base + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

  beforeAll(async () => {
    server = await startControlServer(f.control, { token: TOKEN });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
  });

  it('listens on a free port of 127.0.0.1 and answers with the token', async () => {
    expect(server.port).toBeGreaterThan(0);
    const r = await get('/api/health');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
  });

  it('refuses a request without the token (401), on every route', async () => {
    for (const path of ['/api/health', '/api/status', '/api/events?timeout=0', '/api/events/stream']) {
      const r = await get(path, {});
      expect(r.status, path).toBe(401);
      expect(((await r.json()) as { error: string }).error).toMatch(/token/);
    }
    const p = await post('/api/pause', undefined, {});
    expect(p.status).toBe(401);
    expect(f.calls).not.toContain('pause');
  });

  it('refuses a wrong token (401), one of another length, and other schemes', async () => {
    for (const authorization of [`Bearer ${'b'.repeat(43)}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
      const r = await get('/api/status', { authorization });
      expect(r.status, authorization).toBe(401);
    }
  });

  it('refuses a foreign Origin (403) even with the token, and takes its own', async () => {
    for (const origin of ['http://evil.example', `http://evil.example:${server.port}`, `https://127.0.0.1:${server.port}`, 'null', `http://127.0.0.1:${server.port + 1}`]) {
      const r = await post('/api/pause', undefined, { ...auth, origin });
      expect(r.status, origin).toBe(403);
    }
    expect(f.calls).not.toContain('pause');
    for (const origin of [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`, `http://[::1]:${server.port}`]) {
      const r = await get('/api/health', { ...auth, origin });
      expect(r.status, origin).toBe(200);
    }
  });

  it('refuses a non-loopback Host (403) even with the token: DNS rebinding', async () => {
    for (const host of [`evil.example:${server.port}`, 'evil.example', `127.0.0.1:${server.port + 1}`, '127.0.0.1', `127.0.0.1.evil.example:${server.port}`]) {
      const r = await raw(server.port, '/api/status', { ...auth, host });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body).error).toMatch(/Host/);
    }
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `LOCALHOST:${server.port}`, `[::1]:${server.port}`]) {
      const r = await raw(server.port, '/api/health', { ...auth, host });
      expect(r.status, host).toBe(200);
    }
  });

  it('returns the status and forwards pause, resume, rescan, reload, stop', async () => {
    const s = await get('/api/status');
    expect(s.status).toBe(200);
    expect(await s.json()).toMatchObject({ state: 'idle', pid: 4242, queue: { length: 0 } });
    f.calls.length = 0;
    for (const path of ['/api/pause', '/api/resume', '/api/rescan', '/api/reload']) expect((await post(path)).status, path).toBe(200);
    const stop = await post('/api/stop');
    expect(stop.status).toBe(202);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(f.calls).toEqual(['pause', 'resume', 'rescan', 'reload', 'stop']);
  });

  it('maps a ConfigError from reload to 400 with its message', async () => {
    f.failReload(new ConfigError('/c.json', 'transfers', 'must be at most 256'));
    const r = await post('/api/reload');
    f.failReload(undefined);
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: '/c.json: transfers: must be at most 256' });
  });

  it('takes a run (202) and refuses a bad body with 400 naming the field', async () => {
    const ok = await post('/api/runs', { direction: 'push', delete: true, maxDelete: '10%', include: ['a/**'] });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toEqual({ runId: 'r1', since: expect.any(Number) });
    expect(f.runs.at(-1)).toEqual({ direction: 'push', delete: true, maxDelete: '10%', include: ['a/**'] });
    const cases: [unknown, RegExp][] = [
      [{ direction: 'sideways' }, /direction/],
      [{ direction: 'push', transfers: 0 }, /transfers/],
      [{ direction: 'push', include: 'a' }, /include/],
      [{ direction: 'push', bogus: 1 }, /bogus/],
      [{}, /direction/],
    ];
    for (const [body, re] of cases) {
      const r = await post('/api/runs', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(re);
    }
    const notJson = await fetch(base + '/api/runs', { method: 'POST', headers: auth, body: '{' });
    expect(notJson.status).toBe(400);
    const refused = await post('/api/runs', { direction: 'push', transfers: 13 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'transfers: unlucky' });
  });

  it('answers an unknown route with 404 (after the checks)', async () => {
    expect((await get('/api/nope')).status).toBe(404);
    expect((await get('/api/nope', {})).status).toBe(401);
  });

  it('long-poll returns at once when events exist, filtered by type', async () => {
    const from = f.events.lastId;
    f.events.emit({ type: 'queue', length: 3, failing: 0 });
    f.events.emit({ type: 'state', state: 'syncing' });
    const r = await get(`/api/events?since=${from}&timeout=60`);
    expect(r.status).toBe(200);
    const all = (await r.json()) as { id: number; type: string }[];
    expect(all.map((e) => [e.id, e.type])).toEqual([
      [from + 1, 'queue'],
      [from + 2, 'state'],
    ]);
    const only = (await (await get(`/api/events?since=${from}&timeout=60&types=state`)).json()) as { type: string }[];
    expect(only.map((e) => e.type)).toEqual(['state']);
  });

  it('long-poll waits for the next event, and answers [] after the timeout when none comes', async () => {
    const from = f.events.lastId;
    const pending = get(`/api/events?since=${from}&timeout=60`);
    // Emit once the request is parked on the log; not a timing assumption: the answer waits for it either way.
    setTimeout(() => f.events.emit({ type: 'config', file: '/c.json' }), 50);
    const got = (await (await pending).json()) as { id: number }[];
    expect(got.map((e) => e.id)).toEqual([from + 1]);
    const empty = await get(`/api/events?since=${f.events.lastId}&timeout=1`);
    expect(await empty.json()).toEqual([]);
    expect((await get('/api/events?since=-1')).status).toBe(400);
  });

  it('takes an id from before a restart (above the newest) as 0: nothing is missed', async () => {
    const all = (await (await get(`/api/events?since=0&timeout=0`)).json()) as { id: number }[];
    expect(all.length).toBeGreaterThan(0);
    const r = await get(`/api/events?since=${f.events.lastId + 1000}&timeout=60`);
    expect(((await r.json()) as { id: number }[]).map((e) => e.id)).toEqual(all.map((e) => e.id));
    const sse = await readSse(`${base}/api/events/stream`, { ...auth, 'last-event-id': String(f.events.lastId + 1000) }, 1);
    expect(sse[0]?.id).toBe(String(all[0]?.id));
  });

  it('streams events as SSE with ids and types, and resumes from Last-Event-ID', async () => {
    const from = f.events.lastId;
    f.events.emit({ type: 'queue', length: 1, failing: 0 });
    f.events.emit({ type: 'state', state: 'idle' });
    const first = await readSse(`${base}/api/events/stream`, { ...auth, 'last-event-id': String(from) }, 3, () =>
      f.events.emit({ type: 'stopping' }),
    );
    expect(first.map((m) => [m.id, m.event])).toEqual([
      [String(from + 1), 'queue'],
      [String(from + 2), 'state'],
      [String(from + 3), 'stopping'],
    ]);
    expect(JSON.parse(first[2]?.data ?? '')).toMatchObject({ id: from + 3, type: 'stopping' });
    // A client that saw up to from+2 gets exactly the rest.
    const resumed = await readSse(`${base}/api/events/stream`, { ...auth, 'last-event-id': String(from + 2) }, 1);
    expect(resumed.map((m) => m.id)).toEqual([String(from + 3)]);
  });
});

describe('control server close', () => {
  it('ends open event streams and long-polls, so that a stop never waits on a client', async () => {
    const f = fakeControl();
    const server = await startControlServer(f.control, { token: TOKEN });
    const headers = { authorization: `Bearer ${TOKEN}` };
    const base = `http://127.0.0.1:${server.port}`;
    const sse = await fetch(`${base}/api/events/stream`, { headers });
    const reader = sse.body!.getReader();
    const poll = fetch(`${base}/api/events?since=${f.events.lastId}&timeout=60`, { headers }).then(
      async (r) => r.json(),
      () => 'closed',
    );
    // The long-poll is parked once a request reaches the log; an event proves the stream is live first.
    f.events.emit({ type: 'stopping' });
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('event: stopping');
    const more = (async () => {
      for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return 'ended';
    })();
    await server.close();
    expect(await more).toBe('ended');
    expect(await poll).not.toBeUndefined();
  });
});

interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

/** readSse reads `n` messages from an event stream (calling `then` once the stream is open), then leaves. */
async function readSse(url: string, headers: Record<string, string>, n: number, then?: () => void): Promise<SseMessage[]> {
  const ac = new AbortController();
  const res = await fetch(url, { headers, signal: ac.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  then?.();
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const out: SseMessage[] = [];
  let buf = '';
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const m: SseMessage = {};
      for (const line of block.split('\n')) {
        const [k, ...rest] = line.split(':');
        const v = rest.join(':').replace(/^ /, '');
        if (k === 'id' || k === 'event' || k === 'data') m[k] = v;
      }
      if (m.id) out.push(m);
    }
  }
  ac.abort();
  await reader.cancel().catch(() => {});
  return out;
}
