/** The bench's command line: `npm run bench -- [flags]`. */
import { parseArgs } from 'node:util';

export const TOOL_NAMES = ['cratesync', 'aws', 'rclone'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

export interface BenchOptions {
  small: number;
  big: number;
  smallSize: number;
  bigSize: number;
  tools: ToolName[];
  /** Tracks in the one-album library the rename scenario renames; 0 skips it. */
  rename: number;
  /** Files the tag-edit scenario retags; 0 skips it. */
  retag: number;
  /** Sizes of the no-op-at-scale sets, ascending; empty skips the scenario. */
  scale: number[];
  /**
   * Tools that run at every scale size; undefined: cratesync at every size and
   * aws up to {@link SCALE_AWS_MAX} (a 100,000-file initial push with aws takes long).
   */
  scaleTools?: ToolName[];
  /** Runs whose catalog logs the join scenario's bucket holds; 0 skips it. */
  join: number;
  /** Changes the service's latency scenario makes, one at a time; 0 skips it. */
  serviceLatency: number;
  /** Files the service's burst scenario copies into the library at once; 0 skips it. */
  serviceBurst: number;
  /** Seconds the service's idle scenario measures; 0 skips it. */
  serviceIdleS: number;
  /** Files of the library the idle service watches. */
  serviceIdleFiles: number;
  /** Tracks of the collection the collection scenario pushes and pulls; 0 skips it. */
  collectionTracks: number;
  /** Songs of the players scenario's Strawberry database (and files of its library); 0 skips it. */
  playersSongs: number;
  /** Rating edits the players scenario makes through the service. */
  playersEdits: number;
  /** Songs in the catalog of the Subsonic scenario; 0 skips it. */
  subsonicTracks: number;
  /** Extra copy of the results JSON (`.bench/results.json` is always written). */
  jsonFile?: string;
  /** cratesync's --transfers; undefined leaves its default. */
  transfers?: number;
  /** Per-command limit; a run past it is killed and flagged. */
  timeoutMs: number;
  /** Where s3rver stores objects; undefined picks (see bench/run.ts). */
  store?: string;
  help: boolean;
}

/** Without --scale-tools, aws runs only the scale sets up to this size. */
export const SCALE_AWS_MAX = 20_000;

export const USAGE = `usage: npm run bench -- [flags]
  --small N             files in the small set (default 5000; 0 skips the set)
  --big N               files in the big set (default 100; 0 skips the set)
  --small-size BYTES    size of each small file (default 8KiB; suffixes KiB, MiB accepted)
  --big-size BYTES      size of each big file (default 8MiB)
  --tools LIST          comma-separated, from cratesync,aws,rclone (default all; missing ones are skipped)
  --rename N            rename scenario: push a one-album library of N 64 KiB tracks, rename the
                        album folder, push again and count the audio bytes sent (default 1000; 0 skips)
  --retag N             tag-edit scenario: push a library of max(N, 1000) files of --small-size,
                        rewrite the tags of N of them (same size, same audio), push again (default 100; 0 skips)
  --scale LIST          no-op-at-scale scenario: comma-separated set sizes of 2–4 KiB files, each
                        pushed then pushed again unchanged (default 20000,100000; empty or 0 skips)
  --scale-tools LIST    tools that run every scale size (default: cratesync at every size, aws up
                        to ${SCALE_AWS_MAX.toLocaleString('en-US')}, rclone not at all)
  --join N              join scenario: a bucket whose catalog N runs wrote (N logs, N small files);
                        a writer's push snapshots it, then a fresh machine pulls, counting the
                        catalog objects it reads (default 1000; 0 skips)
  --service-latency N   service scenario: with the service idle on a pushed library, N new 256 KiB
                        files, one at a time, renamed into place; time to each object stored
                        (p50/p99; default 200; 0 skips)
  --service-burst N     service scenario: N files of 64 KiB copied into the library at once; time
                        to all stored, files/s against cratesync push of the same files (default
                        1000; 0 skips)
  --service-idle-s S    service scenario: CPU and RSS of the service idle for S seconds, watching
                        a library of --service-idle-files it has pushed (default 300; 0 skips)
  --service-idle-files N
                        files (2–4 KiB, the scale sets' tree) of the idle scenario's library
                        (default 20000)
  --collection-tracks N collection scenario: a generated Rekordbox collection XML of N tracks (about
                        1.4 KB each), pushed by one user and pulled, rewritten, by another on a folder
                        remote; cratesync only (default 50000; 0 skips)
  --players-songs N     players scenario: a Strawberry database of N songs (the files of the scale
                        set of N, pushed first) attached with cratesync attach; then, the service
                        running, rating edits in the player timed to the catalog on the server while
                        the player writes a play count every 20 ms; cratesync only (default 20000;
                        0 skips)
  --players-edits N     rating edits of the players scenario, one at a time (default 20)
  --subsonic-tracks N   Subsonic scenario: cratesync serve over a catalog of N songs (default 100000)
  --collection-only     run the collection scenario alone: every other scenario's flag is taken
                        as 0 (or empty), whatever is given
  --transfers N         cratesync --transfers (default: cratesync's own default)
  --json FILE           also write the results JSON there (always: .bench/results.json)
  --timeout SECONDS     kill a command running longer (default 1800)
  --store DIR           where s3rver keeps objects (default /dev/shm when it is a
                        tmpfs with room, else the temp folder: disk write-back
                        noise otherwise swamps the small set's figures)
`;

/** parseOptions reads the bench's flags; throws an Error with a usage hint on bad input. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      small: { type: 'string' },
      big: { type: 'string' },
      'small-size': { type: 'string' },
      'big-size': { type: 'string' },
      tools: { type: 'string' },
      rename: { type: 'string' },
      retag: { type: 'string' },
      scale: { type: 'string' },
      'scale-tools': { type: 'string' },
      join: { type: 'string' },
      'service-latency': { type: 'string' },
      'service-burst': { type: 'string' },
      'service-idle-s': { type: 'string' },
      'service-idle-files': { type: 'string' },
      'collection-tracks': { type: 'string' },
      'collection-only': { type: 'boolean' },
      'players-songs': { type: 'string' },
      'players-edits': { type: 'string' },
      'subsonic-tracks': { type: 'string' },
      transfers: { type: 'string' },
      json: { type: 'string' },
      timeout: { type: 'string' },
      store: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const tools = toolList(values.tools ?? TOOL_NAMES.join(','), '--tools');
  const scaleTools = values['scale-tools'] === undefined ? undefined : toolList(values['scale-tools'], '--scale-tools');
  const scale = (values.scale ?? '20000,100000')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== '0')
    .map((s) => count(s, '--scale', 1));
  const transfers = values.transfers === undefined ? undefined : count(values.transfers, '--transfers', 1);
  const only = Boolean(values['collection-only']);
  const scenario = (flag: string, value: string | undefined, fallback: string) => (only ? 0 : count(value ?? fallback, flag, 0));
  return {
    small: scenario('--small', values.small, '5000'),
    big: scenario('--big', values.big, '100'),
    smallSize: bytes(values['small-size'] ?? '8KiB', '--small-size'),
    bigSize: bytes(values['big-size'] ?? '8MiB', '--big-size'),
    tools,
    rename: scenario('--rename', values.rename, '1000'),
    retag: scenario('--retag', values.retag, '100'),
    scale: only ? [] : [...new Set(scale)].sort((a, b) => a - b),
    join: scenario('--join', values.join, '1000'),
    serviceLatency: scenario('--service-latency', values['service-latency'], '200'),
    serviceBurst: scenario('--service-burst', values['service-burst'], '1000'),
    serviceIdleS: scenario('--service-idle-s', values['service-idle-s'], '300'),
    serviceIdleFiles: count(values['service-idle-files'] ?? '20000', '--service-idle-files', 1),
    collectionTracks: count(values['collection-tracks'] ?? '50000', '--collection-tracks', 0),
    playersSongs: scenario('--players-songs', values['players-songs'], '20000'),
    playersEdits: count(values['players-edits'] ?? '20', '--players-edits', 1),
    subsonicTracks: scenario('--subsonic-tracks', values['subsonic-tracks'], '100000'),
    ...(scaleTools ? { scaleTools } : {}),
    ...(values.json ? { jsonFile: values.json } : {}),
    ...(transfers !== undefined ? { transfers } : {}),
    timeoutMs: count(values.timeout ?? '1800', '--timeout', 1) * 1000,
    ...(values.store ? { store: values.store } : {}),
    help: Boolean(values.help),
  };
}

/** toolList reads a comma-separated list of tool names, without repeats, in the order given. */
function toolList(s: string, flag: string): ToolName[] {
  const names = s
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  for (const t of names) if (!(TOOL_NAMES as readonly string[]).includes(t)) throw new Error(`${flag}: unknown tool ${JSON.stringify(t)} (known: ${TOOL_NAMES.join(', ')})`);
  return [...new Set(names)] as ToolName[];
}

function count(s: string, flag: string, min: number): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) throw new Error(`${flag} must be a whole number ≥ ${min}, not ${JSON.stringify(s)}`);
  return n;
}

/** bytes reads "8192", "8KiB" or "8MiB"; makeMp3 needs room for a tag and one frame, so at least 2 KiB. */
function bytes(s: string, flag: string): number {
  const m = /^(\d+)\s*(KiB|MiB|K|M)?$/i.exec(s.trim());
  const unit = m?.[2]?.toLowerCase().startsWith('m') ? 1024 * 1024 : m?.[2] ? 1024 : 1;
  const n = m ? Number(m[1]) * unit : NaN;
  if (!Number.isSafeInteger(n) || n < 2048) throw new Error(`${flag} must be a size of at least 2048 bytes (e.g. 8192, 8KiB, 8MiB), not ${JSON.stringify(s)}`);
  return n;
}
