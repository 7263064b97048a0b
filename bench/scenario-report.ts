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
 *   catalog snapshot and at most {@link JOIN_MAX_LOGS} logs.
 */
import type { JoinScenario } from './report.js';
import { SCALE_AWS_MAX } from './options.js';
import type { ChangeRow, ChangeScenario, Comparison, ScaleScenario, Target } from './report.js';
import { cpu, describe, rss, sec, setTable, size, table } from './tables.js';

export const NOOP_AT_SCALE_SPEEDUP = 10;
/** Decimal megabytes: the stricter reading of "200 MB". */
export const SCALE_RSS_LIMIT_MB = 200;
/** The memory target is about large libraries: it applies from this many files. */
export const SCALE_RSS_FROM = 100_000;
/** The join target: catalog logs a fresh machine may read besides the one snapshot. */
export const JOIN_MAX_LOGS = 50;

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

/** scenarioTargets works out the comparisons and targets of the scenarios; invalid rows are left out. */
export function scenarioTargets(r: { rename?: ChangeScenario; scale?: ScaleScenario; join?: JoinScenario }): { comparisons: Comparison[]; targets: Target[] } {
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
  return { comparisons, targets };
}

function versus(set: string, what: 'initial' | 'noop', cratesyncMs: number, otherMs: number): Comparison {
  return { set, what, against: 'aws', cratesyncMs, otherMs, speedup: otherMs / cratesyncMs };
}

function ceiling(name: string, required: number, unit: string, measured: number | undefined): Target {
  return measured === undefined ? { name, required, atMost: true, unit } : { name, required, atMost: true, unit, measured, met: measured <= required };
}
