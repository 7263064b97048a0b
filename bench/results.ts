/**
 * The shapes of the bench's results: what each scenario measured, as the
 * report renders it and as the JSON holds it. Types only, so that the
 * scenarios and the renderers depend on them and not on each other.
 */
import type { Traffic } from './counting-proxy.js';
import type { RssProbe } from './measure.js';
import type { ToolName } from './options.js';

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
  players?: PlayersScenario;
  subsonic?: SubsonicScenario;
  /** Ratios of every scenario (scale rows are named like `scale-20000`). */
  comparisons: Comparison[];
  targets: Target[];
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

/** Figures of a set of samples (ms): nearest-rank percentiles, largest, smallest, mean. */
export interface SampleFigures {
  count: number;
  p50Ms?: number;
  p95Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  minMs?: number;
  meanMs?: number;
}

/** `cratesync attach strawberry` on the scenario's database: the phase with what it said and what it sent. */
export interface PlayersAttach extends PhaseResult {
  /** Files the attach uploaded, as its own summary line says (0: everything was on the remote). */
  uploaded?: number;
  /** Songs whose metadata it published and playlists it uploaded, as it says. */
  metaPublished?: number;
  playlistsUploaded?: number;
  /** Objects stored under `dj/music/` while it ran (the counting proxy): audio sent. */
  musicStored: number;
  /** Objects stored under `dj/playlists/` while it ran. */
  playlistsStored: number;
  /** Music keys with a `player` entry in the catalog logs on the server afterwards. */
  catalogPlayerEntries?: number;
  /** The playlist objects on the server afterwards. */
  playlistKeys: string[];
}

/** The player's own writes while the service ran: each timed from its BEGIN (or statement) to its commit. */
export interface PlayerWrites extends SampleFigures {
  /** Play-count writes (one statement each) and rating saves (a full-row UPDATE in a transaction). */
  playCounts: number;
  saves: number;
  /** Writes that failed with SQLITE_BUSY or SQLITE_LOCKED: a player would have lost them. */
  busy: number;
  /** Writes that failed otherwise, and the first few messages (also in the scenario's problems). */
  errors: number;
  firstErrors: string[];
  /** The busy timeout the player's connection had, in ms. */
  busyTimeoutMs: number;
  /** The pause between two play-count writes, in ms. */
  intervalMs: number;
}

/** The media-players scenario (bench/players.ts): a big Strawberry database attached, then edits through the service. */
export interface PlayersScenario {
  /** Songs in the player's database, each a file of the library (the scale set of that size). */
  songs: number;
  /** Songs of the one playlist. */
  playlistSongs: number;
  /** Rating edits made through the service. */
  edits: number;
  /** Building the player's database (not measured as part of anything). */
  setupMs: number;
  /** The push that put the library on the server before the attach. */
  push?: PhaseResult;
  attach?: PlayersAttach;
  /** From the service's spawn to it idle after its start-up run, and what that run uploaded. */
  serviceStartupMs?: number;
  serviceStartupUploaded?: number;
  /** From each rating edit's commit in the player to the new rating in a catalog log on the server, in the order made. */
  latencySamplesMs: number[];
  latency?: SampleFigures;
  /** Edits saved whose rating did not reach the catalog within the wait. */
  lost: number;
  /** The player's writes while the service ran (from its start to the last edit). */
  writes?: PlayerWrites;
  /** The same writes with no cratesync process running, just before the service started. */
  baseline?: PlayerWrites;
  /** Where the player's database was: a tmpfs, or the scratch folder on disk. */
  playerDb?: string;
  /** Peak RSS of the service over the scenario (VmHWM at the end). */
  serviceHwmKiB?: number;
  valid: boolean;
  problems: string[];
  /** Warnings the service logged: shown, but they do not make the scenario invalid. */
  warnings: string[];
}

/** The Subsonic scenario (bench/subsonic.ts): `cratesync serve` over a catalog of `tracks` songs. */
export interface SubsonicScenario {
  tracks: number;
  /** Writing the catalog logs and the stream object (not judged). */
  seedMs: number;
  /** From the server's start to its first answered getArtists (catalog read and indexed). */
  startMs?: number;
  artists?: number;
  /** Latency of each kind of request, by name. */
  requests: Record<string, SampleFigures>;
  /** The server's resident set after the requests, and its peak, in KiB. */
  rssKiB?: number;
  hwmKiB?: number;
  /** The server started again on its state: until its first getArtists, and its peak after the same kinds of requests. */
  restartMs?: number;
  restartHwmKiB?: number;
  valid: boolean;
  problems: string[];
}
