/**
 * The bench's Subsonic scenario (bench/subsonic.ts) on a small catalog: the
 * real CLI (built) serving a seeded bucket on s3rver. What is checked is that
 * it measures what it says (every kind of request timed, the stream's first
 * byte from the real object, the server's memory read, every target
 * judged), never how fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver, type S3rver } from '../support/s3rver.js';
import { benchPaths } from '../../bench/paths.js';
import { discoverTools } from '../../bench/tools.js';
import { runSubsonic, SAMPLES } from '../../bench/subsonic.js';
import { renderSubsonic } from '../../bench/subsonic-report.js';
import { scenarioTargets } from '../../bench/scenario-report.js';
import { parseOptions } from '../../bench/options.js';

const TRACKS = 600;

let server: S3rver;
let tmp: string;
let paths: ReturnType<typeof benchPaths>;

beforeAll(async () => {
  server = await startS3rver();
  tmp = await mkdtemp(join(tmpdir(), 'cs-bench-subsonic-'));
  paths = { ...benchPaths(), tmp: join(tmp, 'work') };
  await mkdir(paths.tmp, { recursive: true });
});

afterAll(async () => {
  await server?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the Subsonic scenario', () => {
  it('serves a seeded catalog and times every kind of request, the stream from the real object', { timeout: 180_000 }, async () => {
    const tool = discoverTools(['cratesync'], paths, undefined).tools[0];
    if (!tool) throw new Error('cratesync is not built: run npm run build');
    const ctx = { serverPid: undefined, preload: paths.preload, timeoutMs: 60_000, log: () => {} };

    const s = await runSubsonic(TRACKS, { tool, server, paths, ctx });

    expect(s.problems).toEqual([]);
    expect(s.valid).toBe(true);
    // Every album artist of the seed (at most one per album), and the stream object's.
    expect(s.artists).toBe(Math.ceil((TRACKS - 1) / 12) + 1);
    expect(Object.keys(s.requests).sort()).toEqual([
      'getAlbumList2 (every type)',
      'getArtists',
      'search3 (a word)',
      'search3 (empty query, 500-song pages)',
      'stream: first byte (from s3rver)',
    ]);
    for (const [name, f] of Object.entries(s.requests)) {
      expect(f.count, name).toBe(name.startsWith('getAlbumList2') ? (SAMPLES / 4) * 10 : SAMPLES);
      expect(f.p95Ms, name).toBeGreaterThan(0);
    }
    expect(s.hwmKiB).toBeGreaterThan(10_000);
    expect(s.restartHwmKiB).toBeGreaterThan(10_000);
    expect(s.restartMs).toBeGreaterThan(0);
    const targets = scenarioTargets({ subsonic: s }).targets;
    expect(targets).toHaveLength(7);
    for (const t of targets) expect(t.measured, t.name).toBeTypeOf('number');
    expect(renderSubsonic(s).join('\n')).toContain('stream: first byte');
    expect(parseOptions(['--subsonic-tracks', '0']).subsonicTracks).toBe(0);
    expect(parseOptions([]).subsonicTracks).toBe(100_000);
  });
});
