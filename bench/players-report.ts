/**
 * The report's part for the media-players scenario (bench/players.ts): its
 * table and its targets (issue 12, "Speed"):
 * - attach (with the initial sync of a library already on the remote) under
 *   {@link ATTACH_MS};
 * - every rating edit made in the player in a catalog log on the server
 *   within {@link EDIT_LATENCY_MS} of its commit, the service running (the
 *   largest sample is judged; p50 and p95 are shown);
 * - the player's own writes never blocked longer than
 *   {@link PLAYER_WRITE_MS} (the longest, begin to commit), and none failed
 *   with SQLITE_BUSY.
 * Peak RSS of the attach and of the service are shown, not judged.
 */
import type { PlayersScenario, SampleFigures, Target } from './results.js';
import { cpu, sec, table } from './tables.js';

export const ATTACH_MS = 5000;
export const EDIT_LATENCY_MS = 3000;
export const PLAYER_WRITE_MS = 50;

/** mb is a peak RSS (KiB) in decimal megabytes, one decimal; '?' when not measured. */
function mb(kib: number | undefined): string {
  return kib === undefined ? '?' : (Math.round((kib * 1024) / 1e5) / 10).toFixed(1);
}

const ms = (n: number | undefined): string => (n === undefined ? '-' : n < 100 ? n.toFixed(1) : String(Math.round(n)));

function figures(f: SampleFigures | undefined, unit: (n: number | undefined) => string): string {
  if (!f || f.count === 0) return 'none';
  return `p50 ${unit(f.p50Ms)}, p95 ${unit(f.p95Ms)}, p99 ${unit(f.p99Ms)}, max ${unit(f.maxMs)}`;
}

/** renderPlayers is the players scenario's table: the attach, the edits' latency, the player's writes. */
export function renderPlayers(p: PlayersScenario): string[] {
  const n = p.songs.toLocaleString('en-US');
  const bad = p.valid ? '' : 'INVALID';
  const lines = [`players: a Strawberry database of ${n} songs (the scale set's files, already pushed) and a playlist of ${p.playlistSongs}; database made in ${sec(p.setupMs)} s`];
  const head = ['step', 'result', 'details', ''];
  const rows: string[][] = [];
  const a = p.attach;
  rows.push([
    'attach strawberry (+ initial sync)',
    a ? `${sec(a.ms)} s, peak RSS ${mb(a.peakRssKiB)} MB` : '-',
    a
      ? `CPU ${cpu(a.cpuSeconds)} s; said ${a.uploaded ?? '?'} uploaded, metadata of ${a.metaPublished?.toLocaleString('en-US') ?? '?'} songs, ${a.playlistsUploaded ?? '?'} playlist; stored ${a.musicStored} music / ${a.playlistsStored} playlist objects; catalog: ${a.catalogPlayerEntries?.toLocaleString('en-US') ?? '?'} player entries; ${a.playlistKeys.join(', ') || 'no playlist'}`
      : '-',
    bad,
  ]);
  const l = p.latency;
  rows.push([
    'rating edit → catalog log (service)',
    l && l.count ? `${figures(l, (x) => (x === undefined ? '-' : `${sec(x)} s`))}` : 'none',
    `${p.edits} edits one at a time (full-row save), ${p.lost} lost; min ${l?.minMs !== undefined ? sec(l.minMs) : '-'} s, mean ${l?.meanMs !== undefined ? sec(l.meanMs) : '-'} s; service start-up ${p.serviceStartupMs !== undefined ? sec(p.serviceStartupMs) : '-'} s (${p.serviceStartupUploaded ?? '?'} uploaded), VmHWM ${mb(p.serviceHwmKiB)} MB`,
    bad,
  ]);
  const w = p.writes;
  rows.push([
    "the player's writes (begin → commit)",
    w ? `${figures(w, (x) => `${ms(x)} ms`)}; ${w.busy} SQLITE_BUSY` : '-',
    w ? `${w.playCounts.toLocaleString('en-US')} play counts (one every ${w.intervalMs} ms) + ${w.saves} saves; busy timeout ${w.busyTimeoutMs} ms (Strawberry's); ${w.errors} other failures` : '-',
    bad,
  ]);
  const base = p.baseline;
  rows.push([
    "the player's writes alone (baseline)",
    base ? `${figures(base, (x) => `${ms(x)} ms`)}; ${base.busy} SQLITE_BUSY` : '-',
    base ? `${base.playCounts.toLocaleString('en-US')} play counts with no cratesync process running, after the attach, before the service; database on ${p.playerDb ?? '?'}` : '-',
    bad,
  ]);
  lines.push(...table(head, rows, [0, 1, 2]));
  lines.push('  MB = 10^6 bytes. Edit latency: from the player\'s commit to the new rating read from a new catalog log on s3rver (listing polled');
  lines.push('  every 50 ms). The player is a thread of the bench with its own connection: a play-count UPDATE every 20 ms, and each edit');
  lines.push('  a full-row save in one transaction, as Strawberry makes them.');
  for (const x of p.warnings) lines.push(`  service warning: ${x}`);
  return lines;
}

/** playersTargets judges the scenario against the issue's targets; an invalid scenario's are n/a. */
export function playersTargets(p: PlayersScenario): Target[] {
  const n = p.songs.toLocaleString('en-US');
  const ceiling = (name: string, required: number, unit: string, measured: number | undefined, strict = false): Target =>
    p.valid && measured !== undefined ? { name, required, atMost: true, unit, measured, met: strict ? measured < required : measured <= required } : { name, required, atMost: true, unit };
  return [
    ceiling(`players: attach of a ${n}-song Strawberry database (files on the remote) under ${ATTACH_MS / 1000} s`, ATTACH_MS, 'ms', p.attach?.ms, true),
    ceiling(`players: every rating edit in the catalog within ${EDIT_LATENCY_MS / 1000} s, service running (largest of ${p.edits})`, EDIT_LATENCY_MS, 'ms', p.lost === 0 ? p.latency?.maxMs : undefined),
    ceiling(`players: the player's writes never blocked ${PLAYER_WRITE_MS} ms or longer (longest)`, PLAYER_WRITE_MS, 'ms', p.writes?.maxMs, true),
    ceiling("players: none of the player's writes failed with SQLITE_BUSY", 0, 'failures', p.writes?.busy),
  ];
}
