/**
 * One measured run of a tool's command, the step every scenario is made of:
 * run it (see measure.ts), note s3rver's CPU time meanwhile, and judge the
 * run by its exit and by the tool's own account of its work. What the run
 * did to the bucket is each scenario's to check.
 */
import { join } from 'node:path';
import { cpuSeconds, measure, type Command, type Measured } from './measure.js';
import type { PhaseResult } from './results.js';
import type { Expect, Tool } from './tools.js';

export interface PhaseContext {
  /** s3rver's process, for its CPU time; undefined when it was not found. */
  serverPid: number | undefined;
  /** The compiled rss-preload.js. */
  preload: string;
  timeoutMs: number;
  log: (s: string) => void;
}

export interface Phase {
  result: PhaseResult;
  /** What is wrong with the run, each prefixed with the phase's name; empty when nothing. */
  problems: string[];
}

/**
 * runPhase runs `cmd` of `tool` once and returns its figures and problems.
 * `label` names the scenario and tool in the progress log ("small aws"),
 * `phase` the step ("initial"); `scratch` holds the probe's files.
 * Rejects only when the command cannot be started.
 */
export async function runPhase(tool: Tool, cmd: Command, label: string, phase: string, expect: Expect, scratch: string, ctx: PhaseContext): Promise<Phase> {
  ctx.log(`${label}: ${phase}…`);
  const serverCpu0 = ctx.serverPid ? cpuSeconds(ctx.serverPid) : undefined;
  const m = await measure(cmd, { probe: tool.probe, rssFile: join(scratch, `rss-${phase}`), preload: ctx.preload, timeoutMs: ctx.timeoutMs });
  const serverCpu1 = ctx.serverPid ? cpuSeconds(ctx.serverPid) : undefined;
  const problems: string[] = [];
  const exit = exitProblem(m);
  if (exit) problems.push(`${phase}: ${exit}`);
  const checked = tool.check(m.stdout, expect);
  for (const p of checked.problems) problems.push(`${phase}: ${p}`);
  ctx.log(`${label}: ${phase} ${(m.ms / 1000).toFixed(2)} s, exit ${m.code ?? m.signal}, peak RSS ${m.peakRssKiB ?? '?'} KiB, CPU ${m.cpuSeconds?.toFixed(2) ?? '?'} s`);
  return {
    problems,
    result: {
      ms: round(m.ms),
      code: m.code,
      rssProbe: m.rssProbe,
      ...(m.peakRssKiB !== undefined ? { peakRssKiB: m.peakRssKiB } : {}),
      ...(m.cpuSeconds !== undefined ? { cpuSeconds: round(m.cpuSeconds) } : {}),
      ...(serverCpu0 !== undefined && serverCpu1 !== undefined ? { serverCpuSeconds: round(serverCpu1 - serverCpu0) } : {}),
      ...(Object.keys(checked.info).length ? { info: checked.info } : {}),
    },
  };
}

/** round keeps two decimals: plenty for milliseconds and CPU seconds, and short in JSON. */
export function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function exitProblem(m: Measured): string | undefined {
  if (m.timedOut) return `killed at the --timeout; stderr: ${tail(m.stderr)}`;
  if (m.code !== 0) return `exit ${m.code ?? m.signal}; stderr: ${tail(m.stderr)}`;
  return undefined;
}

function tail(s: string): string {
  const t = s.trim();
  return t.length > 600 ? `…${t.slice(-600)}` : t || '(empty)';
}
