/**
 * The bench's results: one document (printed as JSON and written to files)
 * and its human form, a table followed by ratios and the targets:
 * - initial push of each set at least as fast as the faster of aws and rclone;
 * - no-op re-push of the small set at least 4× faster than aws;
 * and, from the scenarios of scenario-report.ts (rename, retag, scale):
 * - rename: cratesync uploads 0 audio bytes;
 * - no-op push of 20,000 files at least 10× faster than aws;
 * - cratesync's peak RSS under 200 MB at 100,000 files, initial and no-op;
 * - join: a fresh machine joining a bucket of many runs reads one snapshot
 *   and at most 50 catalog logs;
 * - service: change latency p50 ≤ 1.5 s and p99 ≤ 3 s; a burst at least
 *   80% of push's throughput; idle CPU under 1% of one core and RSS under
 *   120 MB;
 * - collection (collection-report.ts): a 50,000-track collection rewritten
 *   in under 1.5 s, peak RSS of its pull and push under 200 MB.
 */
import type { Traffic } from './counting-proxy.js';
import type { RssProbe } from './measure.js';
import type { ToolName } from './options.js';
import { renderChange, renderJoin, renderScale, renderService } from './scenario-report.js';
import { renderCollection } from './collection-report.js';
import { describe, sec, setTable } from './tables.js';

export interface PhaseResult {
  ms: number;
  code: number | null;
  peakRssKiB?: number;
  rssProbe: RssProbe;
  /** CPU seconds (user + system) of the tool's process(es). */
  cpuSeconds?: number;
  /** CPU seconds s3rver used during the run: the other half of the work on a shared machine. */
  serverCpuSeconds?: number;
  /** For no-op runs: objects written again although nothing changed. */
  rewritten?: number;
  /** What the tool said about itself (cratesync: elapsedMs, hashed…). */
  info?: Record<string, unknown>;
}

export interface RunRow {
  set: string;
  tool: ToolName;
  files: number;
  bytes: number;
  initial?: PhaseResult;
  noop?: PhaseResult;
  /** False when the bucket was wrong after the initial push or a run failed. */
  valid: boolean;
  problems: string[];
}

/** A generated library as the report describes it. */
export interface SetInfo {
  name: string;
  files: number;
  bytes: number;
  /** Size of every file; with `maxFileSize`, the smallest. */
  fileSize: number;
  maxFileSize?: number;
  dir: string;
  cached: boolean;
  generateMs: number;
}

export interface SetRow extends SetInfo {
  /** Best of three walks + lstat of the whole set, in this process. */
  statFloorMs: number;
}

/** A run through the counting proxy: what it measured besides the run itself. */
export interface CountedPhase extends PhaseResult {
  traffic: Traffic;
}

/** One tool in a scenario that changes the library between two pushes (rename, retag). */
export interface ChangeRow {
  tool: ToolName;
  initial?: CountedPhase;
  /** The push after the change: the run the scenario is about. */
  push?: CountedPhase;
  /** cratesync: actions of the push whose reason was "tags changed". */
  tagsChanged?: number;
  /** Objects left under `dj/` but outside `dj/music/` after the push, by their first two folders (cratesync: trash, marker). */
  elsewhere?: Record<string, number>;
  /** False when a run failed or the bucket was wrong after either push. */
  valid: boolean;
  problems: string[];
}

export interface ChangeScenario {
  name: 'rename' | 'retag';
  /** The change, in words. */
  change: string;
  /** The library before the change. */
  set: SetInfo;
  changedFiles: number;
  changedBytes: number;
  runs: ChangeRow[];
}

/** The no-op-at-scale scenario: the push-and-re-push of the main sets, on sets of many small files. */
export interface ScaleScenario {
  sets: SetRow[];
  runs: RunRow[];
}

export interface Comparison {
  set: string;
  what: 'initial' | 'noop';
  against: string;
  cratesyncMs: number;
  otherMs: number;
  /** otherMs / cratesyncMs: above 1 means cratesync is faster. */
  speedup: number;
}

/**
 * A target is a speed-up to reach (`speedup` ≥ `required`) or, with
 * `atMost`, a ceiling (`measured` ≤ `required`, in `unit`).
 */
export interface Target {
  name: string;
  required: number;
  speedup?: number;
  atMost?: boolean;
  measured?: number;
  unit?: string;
  /** undefined when it could not be judged (a tool missing or a row invalid). */
  met?: boolean;
}

export interface BenchResults {
  startedAt: string;
  durationMs: number;
  machine: {
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    memoryMiB: number;
    /** Other work on the machine skews every number: 1-minute load average at start and end. */
    loadAvg1m: { start: number; end: number };
  };
  params: Record<string, unknown>;
  tools: Record<string, { version: string; rssProbe: RssProbe }>;
  skippedTools: string[];
  server: string;
  sets: SetRow[];
  runs: RunRow[];
  rename?: ChangeScenario;
  retag?: ChangeScenario;
  scale?: ScaleScenario;
  join?: JoinScenario;
  service?: ServiceScenario;
  collection?: CollectionScenario;
  /** Ratios of every scenario (scale rows are named like `scale-20000`). */
  comparisons: Comparison[];
  targets: Target[];
}

/** compare works out the ratios and targets from the runs; invalid rows are left out. */
export function compare(runs: RunRow[], sets: SetRow[]): { comparisons: Comparison[]; targets: Target[] } {
  const comparisons: Comparison[] = [];
  const targets: Target[] = [];
  const ok = (set: string, tool: ToolName) => runs.find((r) => r.set === set && r.tool === tool && r.valid);
  for (const s of sets) {
    const cs = ok(s.name, 'cratesync');
    const others = (['aws', 'rclone'] as const).map((t) => ok(s.name, t)).filter((r): r is RunRow => r?.initial !== undefined);
    const best = others.sort((a, b) => a.initial!.ms - b.initial!.ms)[0];
    let initial: Comparison | undefined;
    if (cs?.initial && best?.initial) {
      initial = { set: s.name, what: 'initial', against: best.tool, cratesyncMs: cs.initial.ms, otherMs: best.initial.ms, speedup: best.initial.ms / cs.initial.ms };
      comparisons.push(initial);
    }
    targets.push(target(`${s.name}: initial push at least as fast as the faster of aws and rclone`, 1, initial));
    const aws = ok(s.name, 'aws');
    let noop: Comparison | undefined;
    if (cs?.noop && aws?.noop) {
      noop = { set: s.name, what: 'noop', against: 'aws', cratesyncMs: cs.noop.ms, otherMs: aws.noop.ms, speedup: aws.noop.ms / cs.noop.ms };
      comparisons.push(noop);
    }
    if (s.name === 'small') targets.push(target('small: no-op re-push at least 4× faster than aws', 4, noop));
  }
  return { comparisons, targets };
}

function target(name: string, required: number, c: Comparison | undefined): Target {
  return c ? { name, required, speedup: c.speedup, met: c.speedup >= required } : { name, required };
}

/** renderReport is the human-readable report: header, table, ratios, targets, problems. */
export function renderReport(r: BenchResults): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(`cratesync bench — ${r.startedAt}, ${m.cpus} × ${m.cpuModel}, ${m.memoryMiB} MiB RAM, node ${m.node}, load ${m.loadAvg1m.start.toFixed(2)} → ${m.loadAvg1m.end.toFixed(2)}`);
  for (const [name, t] of Object.entries(r.tools)) lines.push(`  ${name.padEnd(9)} ${t.version}`);
  for (const s of r.skippedTools) lines.push(`  skipped   ${s}`);
  lines.push(`  server    ${r.server}`);
  for (const s of r.sets) lines.push(`  set ${describe(s)}`);
  lines.push('');
  if (r.sets.length) lines.push(...setTable(r.sets, r.runs));
  else lines.push('main sets: skipped (--small 0 --big 0)');
  for (const c of [r.rename, r.retag]) if (c) lines.push('', ...renderChange(c));
  if (r.scale) lines.push('', ...renderScale(r.scale));
  if (r.join) lines.push('', ...renderJoin(r.join));
  if (r.service) lines.push('', ...renderService(r.service));
  if (r.collection) lines.push('', ...renderCollection(r.collection));
  lines.push('');
  lines.push('ratios (speed-up = other tool time / cratesync time; above 1 = cratesync faster):');
  if (r.comparisons.length === 0) lines.push('  none (a tool was missing or invalid)');
  for (const c of r.comparisons) {
    const faster = r.sets.some((s) => s.name === c.set) ? ' (faster of aws/rclone)' : '';
    const label = c.what === 'initial' ? `initial vs ${c.against}${faster}` : `no-op vs ${c.against}`;
    lines.push(`  ${c.set.padEnd(12)} ${label.padEnd(40)} ${sec(c.cratesyncMs).padStart(8)} s vs ${sec(c.otherMs).padStart(8)} s  → ${c.speedup.toFixed(2)}×`);
  }
  lines.push('');
  lines.push('targets:');
  for (const t of r.targets) {
    const verdict = t.met === undefined ? 'n/a' : t.met ? 'MET' : 'MISSED';
    let figure = '';
    if (t.speedup !== undefined) figure = ` (${t.speedup.toFixed(2)}×, need ≥ ${t.required}×)`;
    else if (t.atMost && t.measured !== undefined) figure = ` (${t.measured.toLocaleString('en-US')} ${t.unit ?? ''}, need ≤ ${t.required.toLocaleString('en-US')} ${t.unit ?? ''})`;
    lines.push(`  ${verdict.padEnd(7)} ${t.name}${figure}`);
  }
  const problems = [
    ...r.runs.map((x) => ({ where: `${x.set} ${x.tool}`, list: x.problems })),
    ...[r.rename, r.retag].flatMap((c) => (c ? c.runs.map((x) => ({ where: `${c.name} ${x.tool}`, list: x.problems })) : [])),
    ...(r.scale?.runs ?? []).map((x) => ({ where: `${x.set} ${x.tool}`, list: x.problems })),
    ...(r.join ? [{ where: 'join cratesync', list: r.join.problems }] : []),
    ...(r.service ? [{ where: 'service', list: r.service.problems }] : []),
    ...(r.collection ? [{ where: 'collection cratesync', list: r.collection.problems }] : []),
  ].filter((p) => p.list.length);
  if (problems.length) {
    lines.push('', 'problems:');
    for (const x of problems) for (const p of x.list) lines.push(`  ${x.where}: ${p}`);
  }
  return `${lines.join('\n')}\n`;
}

/** A pull of this scenario: the phase with what it read of the catalog. */
export interface JoinPull extends CountedPhase {
  logsRead: number;
  snapshotsRead: number;
}

export interface JoinScenario {
  /** Runs (log objects) in the bucket before the writer's push. */
  runs: number;
  /** Time to write those logs and their objects into s3rver. */
  seedMs: number;
  /** The writer's push (reads every log, then writes the snapshot). */
  writer?: JoinPull;
  /** Snapshot objects after the writer's push. */
  snapshots: number;
  /** The fresh machine's pull. */
  pull?: JoinPull;
  files?: number;
  valid: boolean;
  problems: string[];
}

/**
 * The latency scenario: new files renamed into a library the service
 * watches, one at a time; each sample runs from the rename to the object
 * stored on the server.
 */
export interface ServiceLatency {
  /** Changes made. */
  changes: number;
  fileSize: number;
  /** Files in the library (already pushed) before the first change. */
  libraryFiles: number;
  /** Milliseconds of each change that was stored, in the order made. */
  samplesMs: number[];
  /** Changes not stored within the wait (see bench/service.ts). */
  lost: number;
  /** False when something went wrong (see the scenario's problems): the figures do not count. */
  valid: boolean;
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  minMs?: number;
  meanMs?: number;
}

/** The burst scenario: many files written into the watched library at once, against a push of the same files. */
export interface ServiceBurst {
  files: number;
  bytes: number;
  /** Time to copy the files into the library (the bench's own writing, not the service's work). */
  copyMs?: number;
  /**
   * From the end of the copy (every file written and closed, as push finds
   * them) to the last object stored: what the files/s are of. The service may
   * start before the copy ends; the quiet period is included.
   */
  serviceMs?: number;
  /** From the start of the copy to the last object stored. */
  fromCopyStartMs?: number;
  /** Files stored by then (all, when it went well). */
  stored: number;
  /** What the service counted: runs it made for the burst, files it uploaded. */
  runs?: number;
  uploaded?: number;
  /** `cratesync push` of the same files into a fresh bucket, spawn to exit. */
  push?: PhaseResult;
  serviceFilesPerS?: number;
  pushFilesPerS?: number;
  /** serviceFilesPerS / pushFilesPerS. */
  ratio?: number;
  valid: boolean;
}

/** The idle scenario: the service watching a library it has pushed, doing nothing. */
export interface ServiceIdle {
  files: number;
  /** The push that put the library on the server first. */
  push?: PhaseResult;
  /** From spawning the service to it idle after its start-up run. */
  startupMs?: number;
  /** Files the start-up run uploaded (0 when it was the no-op it should be). */
  startupUploaded?: number;
  /** How the service saw the library change (status watcher.state): `watching` is what the figures are about. */
  watcher?: string;
  /** Length of the measured window. */
  seconds: number;
  /** CPU seconds (user + system) the service used in the window, and as % of one core. */
  cpuSeconds?: number;
  cpuPercent?: number;
  /** VmRSS sampled about every second in the window: largest, mean, first and last (a trend up would be a leak), count. */
  rssMaxKiB?: number;
  rssMeanKiB?: number;
  rssFirstKiB?: number;
  rssLastKiB?: number;
  rssSamples: number;
  /** VmHWM at the end: the peak since the process started (its start-up run included). */
  hwmKiB?: number;
  /** Requests the service sent to the server in the window. */
  requests?: number;
  valid: boolean;
}

/** The service scenarios (bench/service.ts); each part is absent when skipped. */
export interface ServiceScenario {
  /** What the service ran with, in words. */
  settings: string;
  latency?: ServiceLatency;
  burst?: ServiceBurst;
  idle?: ServiceIdle;
  /** False when any part is not valid. */
  valid: boolean;
  problems: string[];
  /** Warnings the service logged: shown, but they do not make a part invalid. */
  warnings: string[];
}

/** A collection command's run: the phase with what it said about its work (`--json`). */
export interface CollectionPhase extends PhaseResult {
  /** Tracks of the collection, as the command counted them. */
  tracks?: number;
}

/** `collection push` of the generated XML. */
export interface CollectionPush extends CollectionPhase {
  /** Reading and matching the XML (its own figure, `indexMs`). */
  indexMs?: number;
  /** Tracks matched to objects: by path under the inferred root, by name and size, by content. */
  matched?: { root: number; name: number; hash: number };
  unmatched?: number;
}

/** `collection pull --from alice` by the second user. */
export interface CollectionPull extends CollectionPhase {
  /** The streaming rewrite (its own figure, `rewriteMs`; download and catalog excluded). */
  rewriteMs?: number;
  /** Tracks resolved to the reader's own file at the same path. */
  have?: number;
  /** Tracks written with an empty Location. */
  refused?: number;
}

/** The collection scenario (bench/collection.ts): a big Rekordbox collection pushed by one user, pulled by another. */
export interface CollectionScenario {
  tracks: number;
  /** Bytes of the generated XML (alice's export). */
  xmlBytes: number;
  /** Collection TRACKs and Location-keyed playlist entries of the XML. */
  xmlLocations: number;
  xmlKeys: number;
  /** Time to write the objects, the second user's links and the XML, and to count the XML's tags. */
  setupMs: number;
  /** Each user's first listing of the remote (`cratesync ls`), before the runs measured: the catalog's cost, not the XML's. */
  aliceCatalog?: PhaseResult;
  bobCatalog?: PhaseResult;
  push?: CollectionPush;
  pull?: CollectionPull;
  /** The same pull again, onto the file the first wrote (the collection unchanged). */
  pullAgain?: CollectionPull;
  /** Bytes of the rewritten XML, and what they should be about (the input's, with the other root in every value). */
  outBytes?: number;
  expectedBytes?: number;
  /** What the check of the rewritten XML found (bench/collection-check.ts). */
  checked?: { locations: number; keys: number; sampled: number; keysOnDisk: number };
  /** False when a run failed or the output did not check: the figures do not count. */
  valid: boolean;
  problems: string[];
}
