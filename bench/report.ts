/**
 * The bench's results: one document (printed as JSON and written to files)
 * and its human form, a table followed by ratios and the targets:
 * - initial push of each set at least as fast as the faster of aws and rclone;
 * - no-op re-push of the small set at least 4× faster than aws.
 */
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

export interface SetRow {
  name: string;
  files: number;
  bytes: number;
  fileSize: number;
  dir: string;
  cached: boolean;
  generateMs: number;
  /** Best of three walks + lstat of the whole set, in this process. */
  statFloorMs: number;
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

export interface Target {
  name: string;
  required: number;
  speedup?: number;
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
  for (const s of r.sets) {
    lines.push(`  set ${s.name}: ${s.files} files × ${size(s.fileSize)} = ${size(s.bytes)} in ${s.dir} (${s.cached ? 'cached' : `generated in ${sec(s.generateMs)} s`})`);
  }
  lines.push('');
  const head = ['set', 'tool', 'initial s', 'no-op s', 'files/s', 'MiB/s', 'peak RSS MiB (initial / no-op)', 'CPU s tool / s3rver (initial)', ''];
  const rows: string[][] = [];
  for (const s of r.sets) {
    rows.push([s.name, 'stat floor', sec(s.statFloorMs), '', rate(s.files, s.statFloorMs), '', '', '', '']);
    for (const run of r.runs.filter((x) => x.set === s.name)) {
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
  const rewrote = r.runs.filter((x) => x.noop?.rewritten);
  for (const x of rewrote) lines.push(`  note: ${x.tool} wrote ${x.noop!.rewritten} of ${x.files} objects again in the ${x.set} no-op run: that time is not a no-op's`);
  if (rewrote.some((x) => x.tool === 'rclone')) {
    lines.push(`  note: s3rver 3.7 leaves out CommonPrefixes nested 2+ levels below the prefix, so rclone's folder-by-folder listing sees an empty bucket`);
  }
  lines.push('');
  lines.push('ratios (speed-up = other tool time / cratesync time; above 1 = cratesync faster):');
  if (r.comparisons.length === 0) lines.push('  none (a tool was missing or invalid)');
  for (const c of r.comparisons) {
    const label = c.what === 'initial' ? `initial vs ${c.against} (faster of aws/rclone)` : `no-op vs ${c.against}`;
    lines.push(`  ${c.set.padEnd(6)} ${label.padEnd(40)} ${sec(c.cratesyncMs).padStart(8)} s vs ${sec(c.otherMs).padStart(8)} s  → ${c.speedup.toFixed(2)}×`);
  }
  lines.push('');
  lines.push('targets:');
  for (const t of r.targets) {
    const verdict = t.met === undefined ? 'n/a' : t.met ? 'MET' : 'MISSED';
    lines.push(`  ${verdict.padEnd(7)} ${t.name}${t.speedup !== undefined ? ` (${t.speedup.toFixed(2)}×, need ≥ ${t.required}×)` : ''}`);
  }
  const problems = r.runs.filter((x) => x.problems.length);
  if (problems.length) {
    lines.push('', 'problems:');
    for (const x of problems) for (const p of x.problems) lines.push(`  ${x.set} ${x.tool}: ${p}`);
  }
  return `${lines.join('\n')}\n`;
}

function table(head: string[], rows: string[][], leftAligned: number[]): string[] {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]) =>
    r
      .map((cell, c) => (leftAligned.includes(c) || c === r.length - 1 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  ').trimEnd(), ...rows.map(fmt)];
}

function sec(ms: number): string {
  return (ms / 1000).toFixed(ms < 1000 ? 3 : ms < 10_000 ? 2 : 1);
}

function rate(files: number, ms: number): string {
  return ms > 0 ? Math.round(files / (ms / 1000)).toString() : '-';
}

function cpu(s: number | undefined): string {
  return s === undefined ? '?' : s.toFixed(1);
}

function rss(p: PhaseResult | undefined): string {
  if (!p || p.peakRssKiB === undefined) return '?';
  return `${p.rssProbe === 'poll' ? '~' : ''}${Math.round(p.peakRssKiB / 1024)}`;
}

function size(bytes: number): string {
  if (bytes >= 1 << 30) return `${(bytes / (1 << 30)).toFixed(2)} GiB`;
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(bytes % (1 << 20) ? 1 : 0)} MiB`;
  if (bytes >= 1 << 10) return `${(bytes / (1 << 10)).toFixed(bytes % (1 << 10) ? 1 : 0)} KiB`;
  return `${bytes} B`;
}
