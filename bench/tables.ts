/**
 * Text tables and number formats for the human report, and the table of the
 * push-and-re-push scenario (the main sets and the scale sets share it).
 */
import type { PhaseResult, RunRow, SetInfo, SetRow } from './results.js';

/**
 * setTable renders one row per set (its stat floor) followed by one per run
 * of it, and notes on no-op runs that wrote objects again.
 */
export function setTable(sets: SetRow[], runs: RunRow[]): string[] {
  const lines: string[] = [];
  const head = ['set', 'tool', 'initial s', 'no-op s', 'files/s', 'MiB/s', 'peak RSS MiB (initial / no-op)', 'CPU s tool / s3rver (initial)', ''];
  const rows: string[][] = [];
  for (const s of sets) {
    rows.push([s.name, 'stat floor', sec(s.statFloorMs), '', rate(s.files, s.statFloorMs), '', '', '', '']);
    for (const run of runs.filter((x) => x.set === s.name)) {
      const i = run.initial;
      rows.push([
        run.set,
        run.tool,
        i ? sec(i.ms) : '-',
        run.noop ? sec(run.noop.ms) : '-',
        i ? rate(run.files, i.ms) : '-',
        i ? (run.bytes / 1048576 / (i.ms / 1000)).toFixed(1) : '-',
        `${rss(i)} / ${rss(run.noop)}`,
        `${cpu(i?.cpuSeconds)} / ${cpu(i?.serverCpuSeconds)}`,
        run.valid ? '' : 'INVALID',
      ]);
    }
  }
  lines.push(...table(head, rows, [0, 1]));
  lines.push('  MiB/s = MiB (2^20 bytes) of the set / initial s.  peak RSS: ~ = approximate (polled /proc VmHWM); others ru_maxrss');
  lines.push('  (cratesync: its own process, via --import preload; aws/rclone: /usr/bin/time %M).  CPU: user + system seconds.');
  const rewrote = runs.filter((x) => x.noop?.rewritten);
  for (const x of rewrote) lines.push(`  note: ${x.tool} wrote ${x.noop!.rewritten} of ${x.files} objects again in the ${x.set} no-op run: that time is not a no-op's`);
  if (rewrote.some((x) => x.tool === 'rclone')) {
    lines.push(`  note: s3rver 3.7 leaves out CommonPrefixes nested 2+ levels below the prefix, so rclone's folder-by-folder listing sees an empty bucket`);
  }
  return lines;
}

/** describe is one line about a generated set: name, count, sizes, where, cached or not. */
export function describe(s: SetInfo): string {
  const each = s.maxFileSize !== undefined ? `${size(s.fileSize)}–${size(s.maxFileSize)}` : size(s.fileSize);
  return `${s.name}: ${s.files.toLocaleString('en-US')} files × ${each} = ${size(s.bytes)} in ${s.dir} (${s.cached ? 'cached' : `generated in ${sec(s.generateMs)} s`})`;
}

/** table lays out `rows` under `head`: columns in `leftAligned` (and the last) to the left, the others to the right. */
export function table(head: string[], rows: string[][], leftAligned: number[]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((cell, c) => (leftAligned.includes(c) || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  ').trimEnd(), ...rows.map(fmt)];
}

export function sec(ms: number): string {
  return (ms / 1000).toFixed(ms < 1000 ? 3 : ms < 10_000 ? 2 : 1);
}

export function rate(files: number, ms: number): string {
  return ms > 0 ? Math.round(files / (ms / 1000)).toString() : '-';
}

export function cpu(s: number | undefined): string {
  return s === undefined ? '?' : s.toFixed(1);
}

/** rss is a run's peak RSS in MiB, `~` in front when only approximate. */
export function rss(p: PhaseResult | undefined): string {
  if (!p || p.peakRssKiB === undefined) return '?';
  return `${p.rssProbe === 'poll' ? '~' : ''}${Math.round(p.peakRssKiB / 1024)}`;
}

export function size(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(bytes % (1 << 20) ? 1 : 0)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(bytes % (1 << 10) ? 1 : 0)} KiB`;
  return `${bytes} B`;
}
