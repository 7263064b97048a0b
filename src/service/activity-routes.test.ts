/**
 * The history and library routes through the control app (hono's
 * app.request): input checked and named when bad, answers in the shapes of
 * docs/dashboard.md, over a real activity log and recorder.
 */
import { describe, expect, it } from 'vitest';
import { fakeControl } from '../../test/support/fake-control.js';
import { openStateDb } from '../state/state-db.js';
import { ActivityLog, type ActivityPage } from '../state/activity-log.js';
import { ActivityRecorder } from './activity-recorder.js';
import { controlApp } from './control-api.js';
import type { ServiceControl } from './control.js';

const TOKEN = 't'.repeat(43);
const PORT = 4321;

function setup() {
  const f = fakeControl();
  const log = new ActivityLog(openStateDb(':memory:'));
  const recorder = new ActivityRecorder(log);
  const control: ServiceControl = { ...f.control, events: f.events, activity: (q) => log.query(q), throughput: () => recorder.throughput() };
  const app = controlApp(control, { token: TOKEN, port: () => PORT });
  const call = async (path: string, init: { method?: string; body?: string; auth?: boolean } = {}) => {
    const r = await app.request(`http://127.0.0.1:${PORT}${path}`, {
      method: init.method ?? 'GET',
      headers: { host: `127.0.0.1:${PORT}`, ...(init.auth === false ? {} : { authorization: `Bearer ${TOKEN}` }), 'content-type': 'application/json' },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  return { f, log, recorder, call };
}

describe('activity routes', () => {
  it('GET /api/activity pages the history newest first, filtered, with next and total', async () => {
    const { log, call } = setup();
    for (let i = 0; i < 30; i++) {
      log.add({ at: 1000 + i, runId: 'r1', kind: i % 2 ? 'upload' : 'download', reason: i % 3 ? 'new' : 'tags-changed', path: `Björk/${i}.mp3`, bytes: i, ok: true });
    }
    const first = await call('/api/activity?limit=5&kinds=upload&q=BJÖRK&reasons=new,tags-changed');
    expect(first.status).toBe(200);
    const page = first.json as unknown as ActivityPage;
    expect(page.total).toBe(15);
    expect(page.rows.map((r) => r.bytes)).toEqual([29, 27, 25, 23, 21]);
    expect(page.rows[0]).toEqual({ id: 30, at: 1029, runId: 'r1', kind: 'upload', reason: 'new', path: 'Björk/29.mp3', bytes: 29, ok: true });
    const second = (await call(`/api/activity?limit=5&kinds=upload&q=bj%C3%B6rk&before=${page.next}`)).json as unknown as ActivityPage;
    expect(second.rows.map((r) => r.bytes)).toEqual([19, 17, 15, 13, 11]);
    // Empty parameters count as absent; from and to are inclusive.
    const window = (await call('/api/activity?q=&kinds=&from=1010&to=1012')).json as unknown as ActivityPage;
    expect(window.rows.map((r) => r.at)).toEqual([1012, 1011, 1010]);
    expect(window).not.toHaveProperty('next');
  });

  it('GET /api/activity refuses bad input with a 400 naming the parameter', async () => {
    const { call } = setup();
    const cases: Array<[string, RegExp]> = [
      ['limit=501', /^query limit: /],
      ['limit=0', /^query limit: /],
      ['limit=ten', /^query limit: must be a whole number/],
      ['kinds=upload,fly', /^query kinds\.1: /],
      ['reasons=DROP%20TABLE', /^query reasons\.0: must be a reason code/],
      ['before=-1', /^query before: /],
      ['from=5&to=4', /^query from: is after to/],
      ['kind=upload', /^query kind: unknown here$/],
      ['limit=1&limit=2', /^query limit: given 2 times/],
      [`q=${'x'.repeat(1001)}`, /^query q: /],
    ];
    for (const [query, message] of cases) {
      const r = await call(`/api/activity?${query}`);
      expect(r.status, query).toBe(400);
      expect(r.json.error, query).toMatch(message);
    }
  });

  it('GET /api/throughput answers the last hour by minute', async () => {
    const { recorder, call } = setup();
    recorder.hear({ type: 'action-progress', id: 0, bytes: 1234, runId: 'r', seq: 1, at: Date.now() });
    const r = await call('/api/throughput');
    expect(r.status).toBe(200);
    const t = r.json as { bucketMs: number; points: Array<{ at: number; bytes: number; files: number }> };
    expect(t.bucketMs).toBe(60_000);
    expect(t.points).toHaveLength(60);
    expect(t.points.at(-1)?.bytes).toBe(1234);
  });

  it('POST /api/retry retries all failing files, or the paths given; a bad body is a 400 naming the field', async () => {
    const { f, call } = setup();
    expect(await call('/api/retry', { method: 'POST' })).toEqual({ status: 200, json: { retried: 0 } });
    expect(await call('/api/retry', { method: 'POST', body: JSON.stringify({ paths: ['a.mp3', 'Sigur Ro\u0301s/c.flac'] }) })).toEqual({ status: 200, json: { retried: 2 } });
    expect(f.retries).toEqual([undefined, ['a.mp3', 'Sigur R\u00f3s/c.flac']]);
    for (const [body, message] of [
      ['{"paths":"a.mp3"}', /^request body paths: /],
      ['{"paths":[""]}', /^request body paths\.0: /],
      ['{"path":["a"]}', /^request body path: unknown here$/],
      ['not json', /^request body: not JSON/],
    ] as const) {
      const r = await call('/api/retry', { method: 'POST', body });
      expect(r.status, body).toBe(400);
      expect(r.json.error, body).toMatch(message);
    }
    expect(f.retries).toHaveLength(2);
  });

  it('GET /api/library answers the overview; every route wants the token', async () => {
    const { call } = setup();
    expect(await call('/api/library')).toEqual({
      status: 200,
      json: { files: 0, bytes: 0, formats: [], changes: { audio: 0, tagsOnly: 0 }, players: [], playlists: [] },
    });
    for (const [path, method] of [['/api/activity', 'GET'], ['/api/throughput', 'GET'], ['/api/retry', 'POST'], ['/api/library', 'GET']] as const) {
      expect((await call(path, { method, auth: false })).status, path).toBe(401);
    }
  });
});
