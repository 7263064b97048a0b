/**
 * The collection scenario (issue 11, "Speed"): a big Rekordbox collection
 * pushed by one user and pulled, rewritten, by another, on a folder remote
 * (the issue measures the XML work, not S3; the other tools have nothing
 * like it, so only cratesync runs):
 * - the remote holds `music/<rel>` for the N tracks of the big fixture
 *   collection (test/fixtures/rekordbox.ts, `bigTrack(i)`), each a few bytes
 *   (its own rel), written directly: the first full listing of each user's
 *   catalog finds them;
 * - each user's state has listed the remote once before the runs measured
 *   (`cratesync ls`, measured too), as it has for a user who pushed or
 *   pulled that music: a fresh machine's first full listing of N objects is
 *   the catalog's cost (the scale scenarios measure it), not the XML's;
 * - alice (an empty library, her own CRATESYNC_HOME) exported the
 *   collection "on Windows" under `D:/DJ Music`; `collection push --xml
 *   --json` indexes it (every Location should land on a known key under the
 *   inferred root) and stores it: wall time, peak RSS, and its own `indexMs`;
 * - bob (another home) has every track in his library (hard links to the
 *   objects, at the same rels); `collection pull --from alice --out --json`
 *   rewrites her XML to his files: wall time, peak RSS, and its own
 *   `rewriteMs`. The output is then checked (collection-check.ts): as many
 *   tracks and Location keys as the input, each Location bob's file of that
 *   TrackID, a sample of them on disk, its size close to the input's once
 *   the longer (or shorter) root in every rewritten value is allowed for;
 *   then the same pull again onto that file (the collection unchanged), as
 *   a user's next pull: wall time and peak RSS, and the file unchanged.
 * A run that failed or whose output is wrong is invalid: its figures do not
 * count. Targets are judged in collection-report.ts.
 */
import { createReadStream } from 'node:fs';
import { link, mkdir, realpath, stat, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { bigTrack, fixtureLocation, writeBigCollection, xmlAttr } from '../test/fixtures/rekordbox.js';
import { forEachLimit } from '../src/core/concurrency.js';
import type { BenchPaths } from './paths.js';
import { round, runPhase, type PhaseContext } from './phase.js';
import type { CollectionPull, CollectionPush, CollectionScenario, PhaseResult } from './results.js';
import { baseEnv, type Checked, type Tool } from './tools.js';
import { checkRewritten, countTrackTags } from './collection-check.js';

/** The root alice's Rekordbox wrote every Location under (her Windows machine). */
export const XML_ROOT = 'D:/DJ Music';
/** Collection TRACKs of the output whose file is looked for on disk (every one is checked by path). */
export const SAMPLES = 100;
/**
 * The output's size may differ by this share of the input's from the input's
 * plus, for every rewritten value, the difference in length of the two roots
 * as Locations: only those values change, and beside the root only in the
 * spelling of a name (NFD in, the on-disk NFC out) or of its escapes.
 */
export const SIZE_TOLERANCE = 0.001;
/** A pattern no track of the fixture matches: `ls` then lists the catalog without printing it. */
const NO_MATCH = 'no-such-track-in-the-bench';
/** Files written at once while setting up. */
const SETUP_CONCURRENCY = 16;

export interface CollectionEnv {
  paths: BenchPaths;
  ctx: PhaseContext;
}

/** sampleIds are the TrackIDs checked on disk: spread over the collection, and over the fixture's rotation of names. */
export function sampleIds(tracks: number, samples = SAMPLES): Set<number> {
  const out = new Set<number>();
  for (let k = 0; k < Math.min(samples, tracks); k++) out.add(Math.min(tracks - 1, Math.floor((k * tracks) / samples) + (k % 10)) + 1);
  return out;
}

/** runCollection runs the scenario with `tracks` tracks (see the top); `tool` is cratesync. Never throws for a run gone wrong. */
export async function runCollection(tool: Tool, tracks: number, env: CollectionEnv): Promise<CollectionScenario> {
  const { paths } = env;
  // No server takes part: its CPU time would be another scenario's.
  const ctx: PhaseContext = { ...env.ctx, serverPid: undefined };
  const out: CollectionScenario = { tracks, xmlBytes: 0, xmlLocations: 0, xmlKeys: 0, setupMs: 0, valid: true, problems: [] };
  const fail = (p: string) => {
    out.problems.push(p);
    out.valid = false;
  };
  const scratch = join(paths.tmp, 'collection');
  const remote = join(scratch, 'remote');
  const aliceLib = join(scratch, 'alice-library');
  const bobLib = join(scratch, 'bob-library');
  const xml = join(scratch, 'alice-rekordbox.xml');
  const rewritten = join(scratch, 'bob-from-alice.xml');

  ctx.log(`collection: ${tracks} objects, bob's links to them and the XML…`);
  const t0 = performance.now();
  const rels = Array.from({ length: tracks }, (_, i) => bigTrack(i).rel);
  for (const dir of new Set(rels.map((r) => dirname(r)))) {
    await mkdir(join(remote, 'music', dir), { recursive: true });
    await mkdir(join(bobLib, dir), { recursive: true });
  }
  await forEachLimit(rels, SETUP_CONCURRENCY, async (rel) => {
    const object = join(remote, 'music', rel);
    await writeFile(object, rel);
    await link(object, join(bobLib, rel));
  });
  await mkdir(aliceLib, { recursive: true });
  const aliceHome = await home(scratch, 'alice', aliceLib, remote);
  const bobHome = await home(scratch, 'bob', bobLib, remote);
  await writeBigCollection(xml, tracks, XML_ROOT);
  out.xmlBytes = (await stat(xml)).size;
  const input = await countTrackTags(xml);
  out.xmlLocations = input.locations;
  out.xmlKeys = input.keys;
  out.setupMs = round(performance.now() - t0);
  ctx.log(`collection: XML of ${(out.xmlBytes / 1e6).toFixed(1)} MB (${input.locations} tracks, ${input.keys} Location keys); set up in ${(out.setupMs / 1000).toFixed(1)} s`);
  if (input.locations !== tracks) fail(`the generated XML has ${input.locations} collection TRACKs, not ${tracks}`);

  const envOf = async (home: string) => baseEnv(scratch, { CRATESYNC_HOME: home, NO_COLOR: '1' });
  const aliceEnv = await envOf(aliceHome);
  const bobEnv = await envOf(bobHome);
  for (const [user, env, key] of [['alice', aliceEnv, 'aliceCatalog'], ['bob', bobEnv, 'bobCatalog']] as const) {
    const listed = await runPhase(
      { ...tool, check: (stdout) => checkListing(stdout, tracks) },
      { command: process.execPath, args: [paths.cli, 'ls', NO_MATCH, '--json'], env },
      `collection ${user}`,
      'catalog',
      {},
      scratch,
      ctx,
    );
    listed.problems.forEach(fail);
    out[key] = listed.result;
  }
  if (!out.valid) return out;

  const push = await runPhase(
    { ...tool, check: (stdout) => checkPush(stdout, tracks) },
    { command: process.execPath, args: [paths.cli, 'collection', 'push', '--xml', xml, '--json'], env: aliceEnv },
    'collection alice',
    'push',
    {},
    scratch,
    ctx,
  );
  push.problems.forEach(fail);
  out.push = pushFigures(push.result);
  if (push.problems.length) return out;

  const pullOnce = (phase: string) =>
    runPhase(
      { ...tool, check: (stdout) => checkPull(stdout, tracks) },
      { command: process.execPath, args: [paths.cli, 'collection', 'pull', '--from', 'alice', '--out', rewritten, '--json'], env: bobEnv },
      'collection bob',
      phase,
      {},
      scratch,
      ctx,
    );
  const pull = await pullOnce('pull');
  pull.problems.forEach(fail);
  out.pull = pullFigures(pull.result);
  if (pull.result.code !== 0) return out;

  out.outBytes = (await stat(rewritten)).size;
  out.expectedBytes = expectedSize(out.xmlBytes, input.locations + input.keys, bobLib);
  const drift = Math.abs(out.outBytes - out.expectedBytes) / out.xmlBytes;
  if (drift > SIZE_TOLERANCE) fail(`the rewritten XML is ${out.outBytes} bytes where ${out.expectedBytes} were expected (the input's ${out.xmlBytes}, its roots changed): ${(drift * 100).toFixed(2)}% of the input apart, more than ${SIZE_TOLERANCE * 100}%`);
  const check = await checkRewritten(rewritten, {
    roots: [...new Set([bobLib, await realpath(bobLib)])],
    // The fixture numbers its tracks from 1: TrackID i + 1 is bigTrack(i).
    rel: (id) => (Number.isInteger(id) && id >= 1 && id <= tracks ? rels[id - 1] : undefined),
    sample: sampleIds(tracks),
  });
  out.checked = { locations: check.locations, keys: check.keys, sampled: check.sampled, keysOnDisk: check.keysOnDisk };
  check.problems.forEach((p) => fail(`rewritten XML: ${p}`));
  if (check.locations !== input.locations) fail(`rewritten XML: ${check.locations} collection TRACKs with a Location, the input has ${input.locations}`);
  if (check.keys !== input.keys) fail(`rewritten XML: ${check.keys} playlist entries keyed by Location, the input has ${input.keys}`);
  ctx.log(`collection: output ${out.outBytes} bytes (${out.expectedBytes} expected), ${check.locations} Locations checked (${check.sampled} on disk), ${check.keys} keys${out.valid ? '' : ' — INVALID'}`);

  // What a user does next time: the same pull onto the file the last one wrote, the collection unchanged.
  const before = await md5Of(rewritten);
  const again = await pullOnce('pull-again');
  again.problems.forEach((p) => fail(`again: ${p}`));
  out.pullAgain = pullFigures(again.result);
  if (again.result.code === 0 && (await md5Of(rewritten)) !== before) fail('the same pull again wrote another XML');
  return out;
}

async function md5Of(file: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** expectedSize is the size of the input (`bytes`) with the root of each of its `values` Locations changed to `root`. */
export function expectedSize(bytes: number, values: number, root: string): number {
  const length = (r: string) => xmlAttr(fixtureLocation(r, 'x.mp3')).length;
  return bytes + values * (length(root) - length(XML_ROOT));
}

/** home makes `user`'s CRATESYNC_HOME with a config naming `library`, the folder remote and the user; returns its path. */
async function home(scratch: string, user: string, library: string, remote: string): Promise<string> {
  const dir = join(scratch, `${user}-home`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify({ library, remote, user }));
  return dir;
}

type Doc = Record<string, unknown>;

function parse(stdout: string): Doc | undefined {
  try {
    const doc: unknown = JSON.parse(stdout);
    return doc && typeof doc === 'object' && !Array.isArray(doc) ? (doc as Doc) : undefined;
  } catch {
    return undefined;
  }
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** checkListing reads `ls --json`: the catalog holds every object, the pattern matched none. */
export function checkListing(stdout: string, tracks: number): Checked {
  const doc = parse(stdout);
  if (!doc) return { problems: ['ls --json output is not a JSON object'], info: {} };
  const problems: string[] = [];
  if (doc.total !== tracks) problems.push(`the catalog lists ${String(doc.total)} objects under music/, not ${tracks}`);
  if (doc.count !== 0) problems.push(`${String(doc.count)} objects matched ${NO_MATCH}`);
  return { problems, info: { total: doc.total, listed: doc.listed } };
}

/** checkPush reads `collection push --json`: every track counted and matched to an object, nothing unmatched. */
export function checkPush(stdout: string, tracks: number): Checked {
  const doc = parse(stdout);
  if (!doc) return { problems: ['--json output is not a JSON object'], info: {} };
  const m = (doc.matched ?? {}) as Record<string, unknown>;
  const matched = { root: num(m.root) ?? 0, name: num(m.name) ?? 0, hash: num(m.hash) ?? 0 };
  const unmatched = Array.isArray(doc.unmatched) ? (doc.unmatched as Array<{ location?: string; why?: string }>) : [];
  const problems: string[] = [];
  if (doc.tracks !== tracks) problems.push(`counted ${String(doc.tracks)} tracks, not ${tracks}`);
  if (matched.root + matched.name + matched.hash !== tracks) problems.push(`matched ${matched.root} by path, ${matched.name} by name and size, ${matched.hash} by content: not all ${tracks}`);
  if (unmatched.length) problems.push(`${unmatched.length} tracks unmatched, e.g. ${unmatched[0]?.location}: ${unmatched[0]?.why}`);
  if (num(doc.indexMs) === undefined) problems.push('no indexMs in its --json');
  return { problems, info: { tracks: doc.tracks, matched, unmatched: unmatched.length, indexMs: doc.indexMs, roots: doc.roots } };
}

/** checkPull reads `collection pull --json`: every track the reader's own file, none refused. */
export function checkPull(stdout: string, tracks: number): Checked {
  const doc = parse(stdout);
  if (!doc) return { problems: ['--json output is not a JSON object'], info: {} };
  const problems: string[] = [];
  // `missing` is the list of tracks missing or unmatched (each with its playlists).
  const missing = Array.isArray(doc.missing) ? doc.missing.length : num(doc.missing);
  if (doc.tracks !== tracks) problems.push(`counted ${String(doc.tracks)} tracks, not ${tracks}`);
  if (doc.have !== tracks) problems.push(`${String(doc.have)} tracks resolved to bob's own file, not all ${tracks} (same content ${String(doc['same-content'])}, missing ${String(missing)}, unmatched ${String(doc.unmatched)})`);
  if (doc.refused !== 0) problems.push(`${String(doc.refused)} Locations refused`);
  if (num(doc.rewriteMs) === undefined) problems.push('no rewriteMs in its --json');
  return { problems, info: { tracks: doc.tracks, have: doc.have, sameContent: doc['same-content'], missing, unmatched: doc.unmatched, refused: doc.refused, rewriteMs: doc.rewriteMs } };
}

function pushFigures(r: PhaseResult): CollectionPush {
  const i = r.info ?? {};
  const m = i.matched as CollectionPush['matched'] | undefined;
  return {
    ...r,
    ...(num(i.tracks) !== undefined ? { tracks: num(i.tracks)! } : {}),
    ...(num(i.indexMs) !== undefined ? { indexMs: round(num(i.indexMs)!) } : {}),
    ...(m ? { matched: m } : {}),
    ...(num(i.unmatched) !== undefined ? { unmatched: num(i.unmatched)! } : {}),
  };
}

function pullFigures(r: PhaseResult): CollectionPull {
  const i = r.info ?? {};
  return {
    ...r,
    ...(num(i.tracks) !== undefined ? { tracks: num(i.tracks)! } : {}),
    ...(num(i.rewriteMs) !== undefined ? { rewriteMs: num(i.rewriteMs)! } : {}),
    ...(num(i.have) !== undefined ? { have: num(i.have)! } : {}),
    ...(num(i.refused) !== undefined ? { refused: num(i.refused)! } : {}),
  };
}
