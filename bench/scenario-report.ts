/**
 * The report's part for the rename, retag and no-op-at-scale scenarios: their
 * tables, and their ratios and targets (report.ts keeps those of the main
 * sets):
 * - rename: cratesync uploads 0 audio bytes on the push after the rename;
 * - scale: the no-op push at least 10× faster than aws s3 sync, at every
 *   scale size aws runs by default (up to 20,000) or was asked to;
 * - scale: cratesync's peak RSS under 200 MB (decimal megabytes,
 *   200,000,000 bytes), initial and no-op alike, at every scale size of
 *   100,000 files or more;
 * - join: a fresh machine joining a bucket that many runs wrote reads one
 *   catalog snapshot and at most {@link JOIN_MAX_LOGS} logs;
 * - service (issue 10, with default settings): change latency p50 and p99
 *   within {@link LATENCY_P50_MS} and {@link LATENCY_P99_MS}; a burst at least
 *   {@link BURST_OF_PUSH} of push's files/s; idle CPU under
 *   {@link IDLE_CPU_PERCENT}% of one core and the largest VmRSS sampled while
 *   idle under {@link IDLE_RSS_MB} MB (decimal);
 * - collection: those of collection-report.ts;
 * - players: those of players-report.ts.
 */
import type { CollectionScenario, JoinScenario } from './results.js';
import { collectionTargets } from './collection-report.js';
import { playersTargets } from './players-report.js';
import { subsonicTargets } from './subsonic-report.js';
import type { PlayersScenario, SubsonicScenario } from './results.js';
import { SCALE_AWS_MAX } from './options.js';
import type { ChangeRow, ChangeScenario, Comparison, ScaleScenario, ServiceScenario, Target } from './results.js';
import { cpu, describe, rss, sec, setTable, size, table } from './tables.js';

export const NOOP_AT_SCALE_SPEEDUP = 10;
/** Decimal megabytes: the stricter reading of "200 MB". */
export const SCALE_RSS_LIMIT_MB = 200;
/** The memory target is about large libraries: it applies from this many files. */
export const SCALE_RSS_FROM = 100_000;
/** The join target: catalog logs a fresh machine may read besides the one snapshot. */
export const JOIN_MAX_LOGS = 50;
/** The service's targets. */
export const LATENCY_P50_MS = 1500;
export const LATENCY_P99_MS = 3000;
export const BURST_OF_PUSH = 0.8;
export const IDLE_CPU_PERCENT = 1;
export const IDLE_RSS_MB = 120;

/** renderChange is the table of a rename or retag scenario: both pushes, with the traffic counted by the proxy. */
export function renderChange(c: ChangeScenario): string[] {
  const lines = [
    `${c.name}: ${c.change} (${c.changedFiles.toLocaleString('en-US')} files, ${size(c.changedBytes)}), then pushed again`,
    `  set ${describe(c.set)}`,
  ];
  const retag = c.name === 'retag';
  const head = ['tool', 'initial s', 'push s', 'audio sent', 'objects written', 'copies', 'deletes', '.cratesync/ sent / copies', 'requests', 'peak RSS MiB', 'CPU s tool / s3rver', ...(retag ? ['tags changed'] : []), ''];
  const rows = c.runs.map((r: ChangeRow) => {
    const p = r.push;
    const t = p?.traffic;
    return [
      r.tool,
      r.initial ? sec(r.initial.ms) : '-',
      p ? sec(p.ms) : '-',
      t ? size(t.audioBytes) : '-',
      t ? String(t.objectsWritten) : '-',
      t ? String(t.copies) : '-',
      t ? String(t.deletes) : '-',
      t ? `${size(t.metaBytes)} / ${t.metaCopies}` : '-',
      t ? String(t.requests) : '-',
      rss(p),
      `${cpu(p?.cpuSeconds)} / ${cpu(p?.serverCpuSeconds)}`,
      ...(retag ? [r.tagsChanged === undefined ? '' : String(r.tagsChanged)] : []),
      r.valid ? '' : 'INVALID',
    ];
  });
  lines.push(...table(head, rows, [0]));
  lines.push('  All figures but "initial s" are of the push after the change. Counted by a proxy in front of s3rver: "audio sent" = request');
  lines.push('  bodies of object writes (PUT, upload parts; no server-side copies) outside dj/.cratesync/, retries included; "copies" =');
  lines.push('  server-side copies into dj/music/; ".cratesync/ sent / copies" = the same into cratesync\'s own prefix (marker, trash).');
  const odd = c.runs.filter((r) => (r.push?.traffic.proxyErrors ?? 0) + (r.push?.traffic.serverErrors ?? 0) > 0);
  for (const r of odd) lines.push(`  note: ${r.tool}: ${r.push!.traffic.serverErrors} s3rver errors (5xx) and ${r.push!.traffic.proxyErrors} requests the proxy could not forward; the tool retried`);
  return lines;
}

/** renderScale is the no-op-at-scale table: that of the main sets, for the scale sets. */
export function renderScale(s: ScaleScenario): string[] {
  return ['no-op at scale:', ...s.sets.map((x) => `  set ${describe(x)}`), ...setTable(s.sets, s.runs)];
}

/** renderJoin is the join scenario's part: the writer's push, the fresh machine's pull, and what each read of the catalog. */
export function renderJoin(j: JoinScenario): string[] {
  const n = j.runs.toLocaleString('en-US');
  const lines = [`join: a fresh machine joining a bucket that ${n} runs wrote (${n} catalog logs, a day apart, each naming one small MP3; written in ${sec(j.seedMs)} s)`];
  const head = ['run', 's', 'catalog logs read', 'snapshots read', 'requests', 'peak RSS MiB', 'CPU s tool / s3rver', ''];
  const row = (name: string, p: JoinScenario['pull']) =>
    p ? [name, sec(p.ms), String(p.logsRead), String(p.snapshotsRead), String(p.traffic.requests), rss(p), `${cpu(p.cpuSeconds)} / ${cpu(p.serverCpuSeconds)}`, ''] : [name, '-', '-', '-', '-', '-', '-', ''];
  lines.push(...table(head, [row('writer push (1 file, fresh state)', j.writer), row('fresh machine pull (everything)', j.pull)], [0]));
  lines.push(`  snapshots in the bucket after the writer's push: ${j.snapshots}; files pulled: ${j.pull?.info?.transferred ?? '?'} of ${j.files ?? '?'}${j.valid ? '' : '  INVALID'}`);
  lines.push('  Catalog objects read = GETs on dj/.cratesync/catalog/log/ and snap/ keys, counted by the proxy in front of s3rver.');
  return lines;
}

/** renderService is the service scenarios' table: one row each, with the figures its targets are about. */
export function renderService(s: ServiceScenario): string[] {
  const lines = [`service: cratesync service run, ${s.settings}; objects timed as stored when s3rver answers their upload (through the counting proxy)`];
  const head = ['scenario', 'files', 'result', 'details', ''];
  const rows: string[][] = [];
  const bad = (x: { valid: boolean }) => (x.valid ? '' : 'INVALID');
  const l = s.latency;
  if (l) {
    const figures = l.p50Ms !== undefined ? `p50 ${sec(l.p50Ms)} s, p99 ${sec(l.p99Ms!)} s, max ${sec(l.maxMs!)} s` : 'none stored';
    rows.push([
      'latency (rename → stored)',
      `${l.changes.toLocaleString('en-US')} × ${size(l.fileSize)}`,
      figures,
      `one at a time on a pushed library of ${l.libraryFiles.toLocaleString('en-US')}; min ${l.minMs !== undefined ? sec(l.minMs) : '-'} s, mean ${l.meanMs !== undefined ? sec(l.meanMs) : '-'} s; ${l.lost} lost`,
      bad(l),
    ]);
  }
  const b = s.burst;
  if (b) {
    const result = b.serviceMs !== undefined ? `${sec(b.serviceMs)} s = ${Math.round(b.serviceFilesPerS!)} files/s` : `${b.stored} stored`;
    const push = b.push ? `push ${sec(b.push.ms)} s = ${b.pushFilesPerS !== undefined ? Math.round(b.pushFilesPerS) : '-'} files/s` : 'push -';
    const ratio = b.ratio !== undefined ? ` → ${(b.ratio * 100).toFixed(0)}% of push` : '';
    rows.push(['burst (copied in at once → all stored)', `${b.files.toLocaleString('en-US')} × ${size(b.bytes / Math.max(1, b.files))}`, result, `${push}${ratio}; copy ${b.copyMs !== undefined ? sec(b.copyMs) : '-'} s, ${b.fromCopyStartMs !== undefined ? sec(b.fromCopyStartMs) : '-'} s from its start; ${b.runs ?? '?'} runs, ${b.uploaded ?? '?'} uploaded`, bad(b)]);
  }
  const i = s.idle;
  if (i) {
    const mb = (kib: number | undefined) => (kib === undefined ? '-' : ((kib * 1024) / 1e6).toFixed(1));
    const result = i.cpuPercent !== undefined ? `CPU ${i.cpuPercent.toFixed(2)}% of one core, RSS max ${mb(i.rssMaxKiB)} MB` : '-';
    const details = `${i.seconds} s idle (${i.cpuSeconds ?? '?'} CPU s); RSS mean ${mb(i.rssMeanKiB)} MB over ${i.rssSamples} samples (first ${mb(i.rssFirstKiB)}, last ${mb(i.rssLastKiB)}), VmHWM ${mb(i.hwmKiB)} MB (start-up run included); ${i.requests ?? '?'} requests; start-up ${i.startupMs !== undefined ? sec(i.startupMs) : '-'} s, ${i.startupUploaded ?? '?'} uploaded; watcher ${i.watcher ?? '?'}`;
    rows.push([`idle (${i.files.toLocaleString('en-US')} files watched)`, i.files.toLocaleString('en-US'), result, details, bad(i)]);
  }
  lines.push(...table(head, rows, [0, 2, 3]));
  lines.push('  MB = 10^6 bytes. Burst: from the end of the copy into the library (all files written) to the last object stored, the quiet');
  lines.push('  period included; push: cratesync push of the same files into a fresh bucket, spawn to exit, the service stopped.');
  lines.push('  Idle: CPU = utime + stime of the service process over the window; RSS = VmRSS sampled every second in it.');
  for (const w of s.warnings) lines.push(`  service warning: ${w}`);
  return lines;
}

/** serviceTargets judges the service scenarios against the targets; parts skipped or gone wrong are n/a. */
function serviceTargets(s: ServiceScenario): Target[] {
  const targets: Target[] = [];
  const l = s.latency;
  if (l) {
    const n = l.changes.toLocaleString('en-US');
    targets.push(ceiling(`service: change latency p50 ≤ ${LATENCY_P50_MS / 1000} s over ${n} changes`, LATENCY_P50_MS, 'ms', l.valid ? l.p50Ms : undefined));
    targets.push(ceiling(`service: change latency p99 ≤ ${LATENCY_P99_MS / 1000} s over ${n} changes`, LATENCY_P99_MS, 'ms', l.valid ? l.p99Ms : undefined));
  }
  const b = s.burst;
  if (b) {
    const name = `service: a burst of ${b.files.toLocaleString('en-US')} new files at least ${BURST_OF_PUSH * 100}% of push's files/s`;
    targets.push(b.valid && b.ratio !== undefined ? { name, required: BURST_OF_PUSH, speedup: b.ratio, met: b.ratio >= BURST_OF_PUSH } : { name, required: BURST_OF_PUSH });
  }
  const i = s.idle;
  if (i) {
    const below = (name: string, required: number, unit: string, measured: number | undefined): Target =>
      i.valid && measured !== undefined ? { name, required, atMost: true, unit, measured, met: measured < required } : { name, required, atMost: true, unit };
    const mb = i.rssMaxKiB === undefined ? undefined : Math.round((i.rssMaxKiB * 1024) / 1e5) / 10;
    targets.push(below(`service: idle CPU under ${IDLE_CPU_PERCENT}% of one core (${i.seconds} s, ${i.files.toLocaleString('en-US')} files watched)`, IDLE_CPU_PERCENT, '%', i.cpuPercent));
    targets.push(below(`service: idle RSS under ${IDLE_RSS_MB} MB (largest VmRSS sampled while idle)`, IDLE_RSS_MB, 'MB', mb));
  }
  return targets;
}

/** scenarioTargets works out the comparisons and targets of the scenarios; invalid rows are left out. */
export function scenarioTargets(r: { rename?: ChangeScenario; scale?: ScaleScenario; join?: JoinScenario; service?: ServiceScenario; collection?: CollectionScenario; players?: PlayersScenario; subsonic?: SubsonicScenario }): { comparisons: Comparison[]; targets: Target[] } {
  const comparisons: Comparison[] = [];
  const targets: Target[] = [];
  if (r.rename) {
    const cs = r.rename.runs.find((x) => x.tool === 'cratesync' && x.valid && x.push);
    targets.push(ceiling('rename: cratesync uploads 0 audio bytes', 0, 'bytes', cs?.push?.traffic.audioBytes));
  }
  if (r.scale) {
    const ok = (set: string, tool: string) => r.scale!.runs.find((x) => x.set === set && x.tool === tool && x.valid);
    for (const s of r.scale.sets) {
      const cs = ok(s.name, 'cratesync');
      const aws = ok(s.name, 'aws');
      let noop: Comparison | undefined;
      if (cs?.initial && aws?.initial) comparisons.push(versus(s.name, 'initial', cs.initial.ms, aws.initial.ms));
      if (cs?.noop && aws?.noop) comparisons.push((noop = versus(s.name, 'noop', cs.noop.ms, aws.noop.ms)));
      const awsRan = r.scale.runs.some((x) => x.set === s.name && x.tool === 'aws');
      if (awsRan || s.files <= SCALE_AWS_MAX) {
        const name = `${s.name}: no-op push at least ${NOOP_AT_SCALE_SPEEDUP}× faster than aws s3 sync`;
        targets.push(noop ? { name, required: NOOP_AT_SCALE_SPEEDUP, speedup: noop.speedup, met: noop.speedup >= NOOP_AT_SCALE_SPEEDUP } : { name, required: NOOP_AT_SCALE_SPEEDUP });
      }
    }
    for (const s of r.scale.sets.filter((x) => x.files >= SCALE_RSS_FROM)) {
      const cs = ok(s.name, 'cratesync');
      const peaks = [cs?.initial, cs?.noop].map((p) => p?.peakRssKiB);
      const peak = peaks.every((k) => k !== undefined) ? Math.max(...(peaks as number[])) : undefined;
      const mb = peak === undefined ? undefined : Math.round((peak * 1024) / 1e5) / 10;
      targets.push(ceiling(`${s.name}: cratesync peak RSS under ${SCALE_RSS_LIMIT_MB} MB (10^6 bytes), initial and no-op`, SCALE_RSS_LIMIT_MB, 'MB', mb));
    }
  }
  if (r.join) {
    const name = `join: a fresh machine joining a bucket of ${r.join.runs.toLocaleString('en-US')} runs reads one snapshot and at most ${JOIN_MAX_LOGS} logs`;
    const p = r.join.valid ? r.join.pull : undefined;
    targets.push(p ? { name, required: JOIN_MAX_LOGS, atMost: true, unit: `logs (+ ${p.snapshotsRead} snapshot)`, measured: p.logsRead, met: p.snapshotsRead === 1 && p.logsRead <= JOIN_MAX_LOGS } : { name, required: JOIN_MAX_LOGS, atMost: true, unit: 'logs' });
  }
  if (r.service) targets.push(...serviceTargets(r.service));
  if (r.collection) targets.push(...collectionTargets(r.collection));
  if (r.players) targets.push(...playersTargets(r.players));
  if (r.subsonic) targets.push(...subsonicTargets(r.subsonic));
  return { comparisons, targets };
}

function versus(set: string, what: 'initial' | 'noop', cratesyncMs: number, otherMs: number): Comparison {
  return { set, what, against: 'aws', cratesyncMs, otherMs, speedup: otherMs / cratesyncMs };
}

function ceiling(name: string, required: number, unit: string, measured: number | undefined): Target {
  return measured === undefined ? { name, required, atMost: true, unit } : { name, required, atMost: true, unit, measured, met: measured <= required };
}
