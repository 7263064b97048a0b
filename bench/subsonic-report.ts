/**
 * The report's part for the Subsonic scenario (bench/subsonic.ts): its table
 * and its targets (issue 14, "Speed"), judged on the p95 of each request:
 * getArtists and search3 under {@link BROWSE_MS}, getAlbumList2 under
 * {@link ALBUM_LIST_MS}, a stream's first byte from s3rver under
 * {@link FIRST_BYTE_MS}; and the server's resident set under
 * {@link RSS_BYTES}: as it serves (after the requests), its peak at a
 * machine's very first start (the whole catalog read, listed and indexed
 * once), and its peak when started again on the state it keeps.
 */
import type { SubsonicScenario, Target } from './results.js';
import { sec, table } from './tables.js';

export const BROWSE_MS = 100;
export const ALBUM_LIST_MS = 50;
export const FIRST_BYTE_MS = 150;
export const RSS_BYTES = 200e6;

const ms = (n: number | undefined): string => (n === undefined ? '-' : n < 100 ? n.toFixed(1) : String(Math.round(n)));
const mb = (kib: number | undefined): string => (kib === undefined ? '?' : ((kib * 1024) / 1e6).toFixed(1));

function decimalMb(kib: number | undefined): number | undefined {
  return kib === undefined ? undefined : Math.round((kib * 1024) / 1e5) / 10;
}

/** renderSubsonic is the scenario's table: one row per kind of request, then memory. */
export function renderSubsonic(s: SubsonicScenario): string[] {
  const bad = s.valid ? '' : 'INVALID';
  const lines = [
    `subsonic: cratesync serve over a catalog of ${s.tracks.toLocaleString('en-US')} songs on s3rver (no local library); seeded in ${sec(s.seedMs)} s; ` +
      `first getArtists answered ${s.startMs !== undefined ? `${sec(s.startMs)} s` : '-'} after start (${s.artists ?? '?'} artists)`,
  ];
  const rows = Object.entries(s.requests).map(([name, f]) => [name, `p50 ${ms(f.p50Ms)} ms, p95 ${ms(f.p95Ms)} ms, max ${ms(f.maxMs)} ms`, `${f.count} requests, one at a time`, bad]);
  rows.push(['server memory (first start)', `VmRSS ${mb(s.rssKiB)} MB, peak (VmHWM) ${mb(s.hwmKiB)} MB`, "after the requests; the peak includes the machine's first catalog read and index build", bad]);
  rows.push([
    'server memory (started again)',
    `peak (VmHWM) ${mb(s.restartHwmKiB)} MB`,
    `on the state it keeps: getArtists answered ${s.restartMs !== undefined ? `${sec(s.restartMs)} s` : '-'} after start; then getArtists, search3, getAlbumList2`,
    bad,
  ]);
  lines.push(...table(['request', 'latency', 'details', ''], rows, [0, 1, 2]));
  lines.push('  JSON answers (f=json), token auth; latency from the request sent to the whole answer read (stream: to its first byte).');
  return lines;
}

/** subsonicTargets judges the scenario; an invalid one's are n/a. */
export function subsonicTargets(s: SubsonicScenario): Target[] {
  const n = s.tracks.toLocaleString('en-US');
  const p95 = (prefix: string): number | undefined => {
    const all = Object.entries(s.requests).filter(([k]) => k.startsWith(prefix));
    return all.length ? Math.max(...all.map(([, f]) => f.p95Ms ?? Infinity)) : undefined;
  };
  const ceiling = (name: string, required: number, unit: string, measured: number | undefined): Target =>
    s.valid && measured !== undefined ? { name, required, atMost: true, unit, measured, met: measured < required } : { name, required, atMost: true, unit };
  return [
    ceiling(`subsonic: getArtists p95 under ${BROWSE_MS} ms at ${n} tracks`, BROWSE_MS, 'ms', p95('getArtists')),
    ceiling(`subsonic: search3 p95 under ${BROWSE_MS} ms at ${n} tracks (slowest of its queries)`, BROWSE_MS, 'ms', p95('search3')),
    ceiling(`subsonic: getAlbumList2 p95 under ${ALBUM_LIST_MS} ms at ${n} tracks`, ALBUM_LIST_MS, 'ms', p95('getAlbumList2')),
    ceiling(`subsonic: stream's first byte from s3rver p95 under ${FIRST_BYTE_MS} ms`, FIRST_BYTE_MS, 'ms', p95('stream')),
    ceiling(`subsonic: server's RSS as it serves under ${RSS_BYTES / 1e6} MB`, RSS_BYTES / 1e6, 'MB', decimalMb(s.rssKiB)),
    ceiling(`subsonic: server's peak RSS at a machine's first start (catalog read, listed, indexed) under ${RSS_BYTES / 1e6} MB`, RSS_BYTES / 1e6, 'MB', decimalMb(s.hwmKiB)),
    ceiling(`subsonic: server's peak RSS when started on its state under ${RSS_BYTES / 1e6} MB`, RSS_BYTES / 1e6, 'MB', decimalMb(s.restartHwmKiB)),
  ];
}
