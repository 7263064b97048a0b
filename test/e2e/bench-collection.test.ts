/**
 * The bench's collection scenario (bench/collection.ts) on a small
 * collection: the real CLI (built) pushes and pulls on a folder remote. What
 * is checked is that it measures what it says (the commands' own figures
 * read, the output checked, every target judged) and that its check of the
 * rewritten XML catches a wrong one; never how fast.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchPaths } from '../../bench/paths.js';
import { discoverTools } from '../../bench/tools.js';
import { runCollection, sampleIds } from '../../bench/collection.js';
import { checkRewritten, decodeLocationValue } from '../../bench/collection-check.js';
import { renderCollection } from '../../bench/collection-report.js';
import { scenarioTargets } from '../../bench/scenario-report.js';
import { parseOptions } from '../../bench/options.js';
import type { CollectionScenario } from '../../bench/results.js';

const TRACKS = 500;
let tmp: string;
let paths: ReturnType<typeof benchPaths>;
let scenario: CollectionScenario;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cs-bench-collection-'));
  paths = { ...benchPaths(), tmp: join(tmp, 'work') };
  await mkdir(paths.tmp, { recursive: true });
  const tool = discoverTools(['cratesync'], paths, undefined).tools[0];
  if (!tool) throw new Error('cratesync is not built: run npm run build');
  const ctx = { serverPid: undefined, preload: paths.preload, timeoutMs: 120_000, log: () => {} };
  scenario = await runCollection(tool, TRACKS, { paths, ctx });
}, 180_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the collection scenario', () => {
  it('pushes and pulls the collection, reads the figures and checks the rewritten XML', () => {
    expect(scenario.problems).toEqual([]);
    expect(scenario.valid).toBe(true);
    expect(scenario.xmlLocations).toBe(TRACKS);
    expect(scenario.xmlKeys).toBeGreaterThan(0);
    expect(scenario.xmlBytes).toBeGreaterThan(0);
    // Each user's catalog listed the remote before the runs measured.
    expect(scenario.aliceCatalog).toMatchObject({ code: 0, info: { total: TRACKS } });
    expect(scenario.bobCatalog).toMatchObject({ code: 0, info: { total: TRACKS } });
    expect(scenario.push).toMatchObject({ code: 0, tracks: TRACKS, matched: { root: TRACKS, name: 0, hash: 0 }, unmatched: 0 });
    expect(scenario.push?.indexMs).toBeTypeOf('number');
    expect(scenario.push?.peakRssKiB).toBeGreaterThan(0);
    expect(scenario.pull).toMatchObject({ code: 0, tracks: TRACKS, have: TRACKS, refused: 0 });
    expect(scenario.pull?.rewriteMs).toBeTypeOf('number');
    expect(scenario.pull?.peakRssKiB).toBeGreaterThan(0);
    expect(scenario.pullAgain).toMatchObject({ code: 0, tracks: TRACKS, have: TRACKS, refused: 0 });
    expect(scenario.pullAgain?.peakRssKiB).toBeGreaterThan(0);
    expect(scenario.checked).toEqual({ locations: TRACKS, keys: scenario.xmlKeys, sampled: 100, keysOnDisk: scenario.xmlKeys });
    expect(scenario.outBytes).toBeGreaterThan(0);
    // Every target judged, none left n/a; the table names both runs.
    const { targets } = scenarioTargets({ collection: scenario });
    expect(targets).toHaveLength(4);
    for (const t of targets) expect(typeof t.met).toBe('boolean');
    expect(renderCollection(scenario).join('\n')).toMatch(/alice: collection push[\s\S]*bob: collection pull[\s\S]*bob: the same pull again/);
  });

  it("finds a rewritten XML wrong when a Location is not bob's file of its track", async () => {
    const scratch = join(paths.tmp, 'collection');
    const good = join(scratch, 'bob-from-alice.xml');
    const bobLib = join(scratch, 'bob-library');
    const xml = await readFile(good, 'utf8');
    const locations = [...xml.matchAll(/\bLocation="([^"]*)"/g)].map((m) => m[1]!);
    const rels = locations.map((l) => decodeLocationValue(l)!.slice(bobLib.length + 1).normalize('NFC'));
    const expectOf = { roots: [bobLib], rel: (id: number) => rels[id - 1], sample: sampleIds(TRACKS) };
    expect((await checkRewritten(good, expectOf)).problems).toEqual([]);

    // TrackID 1 given TrackID 2's file; a key sent outside the library; a Location still on alice's machine.
    const bad = join(tmp, 'bad.xml');
    let wrong = xml.replace(`Location="${locations[0]}"`, () => `Location="${locations[1]}"`);
    wrong = wrong.replace(/(<TRACK Key=")file:\/\/localhost\/[^"]*"/, '$1file://localhost/etc/passwd"');
    wrong = wrong.replace(`Location="${locations[2]}"`, () => 'Location="file://localhost/D:/DJ%20Music/x.mp3"');
    await writeFile(bad, wrong);
    const r = await checkRewritten(bad, expectOf);
    expect(r.problems).toHaveLength(2);
    expect(r.problems[0]).toMatch(/^2 Locations other than the reader's file of the track \(TrackID 1: .*; TrackID 3: \/D:\/DJ Music\/x\.mp3\)$/);
    expect(r.problems[1]).toMatch(/^1 playlist keys outside the reader's library \(\/etc\/passwd\)$/);
  });
});

describe('the bench flags', () => {
  it('--collection-only runs the collection scenario alone', () => {
    const o = parseOptions(['--collection-only', '--small', '10', '--collection-tracks', '700']);
    expect(o).toMatchObject({ small: 0, big: 0, rename: 0, retag: 0, scale: [], join: 0, serviceLatency: 0, serviceBurst: 0, serviceIdleS: 0, collectionTracks: 700 });
    expect(parseOptions([]).collectionTracks).toBe(50_000);
    expect(parseOptions(['--collection-tracks', '0']).collectionTracks).toBe(0);
    expect(() => parseOptions(['--collection-tracks', '-1'])).toThrow(/--collection-tracks/);
  });
});
