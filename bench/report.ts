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
 *   in under 1.5 s, peak RSS of its pull and push under 200 MB;
 * - players (players-report.ts): attach of a 20,000-song player database
 *   under 5 s, an edit in the player in the catalog within 3 s, the
 *   player's writes never blocked 50 ms, none failed with SQLITE_BUSY.
 */
import { renderChange, renderJoin, renderScale, renderService } from './scenario-report.js';
import { renderCollection } from './collection-report.js';
import { renderPlayers } from './players-report.js';
import { renderSubsonic } from './subsonic-report.js';
import { describe, sec, setTable } from './tables.js';
import type { RunRow, SetRow, Comparison, Target, BenchResults } from './results.js';
import type { ToolName } from './options.js';

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
  if (r.players) lines.push('', ...renderPlayers(r.players));
  if (r.subsonic) lines.push('', ...renderSubsonic(r.subsonic));
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
    ...(r.players ? [{ where: 'players cratesync', list: r.players.problems }] : []),
    ...(r.subsonic ? [{ where: 'subsonic cratesync', list: r.subsonic.problems }] : []),
  ].filter((p) => p.list.length);
  if (problems.length) {
    lines.push('', 'problems:');
    for (const x of problems) for (const p of x.list) lines.push(`  ${x.where}: ${p}`);
  }
  return `${lines.join('\n')}\n`;
}
