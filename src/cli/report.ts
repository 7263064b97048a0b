/** Rendering plans and results: text for people, JSON for programs. */
import type { Action, Direction, Plan } from '../sync/plan.js';
import type { SyncResult } from '../sync/engine.js';
import { formatBytes, formatCount } from './format.js';

/** renderPlan lists every action of a dry run: what, which file, why. */
export function renderPlan(p: Plan): string {
  return p.actions.map((a) => `${a.kind.padEnd(12)} ${a.path}  (${why(a)})\n`).join('');
}

function why(a: Action): string {
  const size = a.size ? `, ${formatBytes(a.size)}` : '';
  return `${a.reason}${a.detail ? `: ${a.detail}` : ''}${size}`;
}

/** renderStatus shows what differs, grouped, and counts what does not. */
export function renderStatus(where: { library: string; remote: string }, r: SyncResult): string {
  const acts = r.plan.actions;
  const groups: Array<[string, Action[]]> = [
    ['only in the library (push would upload)', acts.filter((a) => a.kind === 'upload' && a.reason === 'new')],
    ['only on the remote (pull would download)', acts.filter((a) => a.kind === 'skip' && a.reason === 'only on remote')],
    ['content differs', acts.filter((a) => a.reason === 'content differs')],
    ['names the remote cannot hold', acts.filter((a) => a.kind === 'error')],
  ];
  let out = `library ${where.library}\nremote  ${where.remote}\n`;
  for (const [title, list] of groups) {
    if (list.length === 0) continue;
    out += `\n${title}: ${formatCount(list.length)}\n`;
    for (const a of list) out += `  ${a.path}${a.detail && a.kind === 'error' ? `: ${a.detail}` : ''}\n`;
  }
  const same = acts.filter((a) => a.reason === 'identical').length;
  const differing = groups.reduce((n, [, l]) => n + l.length, 0);
  out += `\n${formatCount(same)} identical, ${formatCount(differing)} differ${r.problems.length ? `, ${r.problems.length} warnings` : ''}\n`;
  return out;
}

/** resultJson is the --json document of push, pull and status. */
export function resultJson(command: Direction | 'status', where: { library: string; remote: string }, r: SyncResult) {
  const failed = new Map((r.exec?.failed ?? []).map((f) => [`${f.kind}:${f.path}`, f.message]));
  const done = new Set((r.exec?.done ?? []).map((a) => `${a.kind}:${a.path}`));
  return {
    command,
    ...where,
    dryRun: !r.exec,
    elapsedMs: Math.round(r.elapsedMs),
    hashed: r.hashed,
    summary: {
      transferred: r.exec?.done.filter((a) => a.kind === 'upload' || a.kind === 'download').length ?? 0,
      bytes: r.exec?.bytes ?? 0,
      unchanged: r.plan.actions.filter((a) => a.reason === 'identical').length,
      failed: r.exec?.failed.length ?? r.plan.actions.filter((a) => a.kind === 'error').length,
      warnings: r.problems.length,
    },
    actions: r.plan.actions.map((a) => {
      const id = `${a.kind}:${a.path}`;
      const status = !r.exec ? 'planned' : a.kind === 'skip' ? 'skipped' : failed.has(id) ? 'failed' : done.has(id) ? 'done' : 'not started';
      return { kind: a.kind, path: a.path, key: a.key, reason: a.reason, ...(a.detail ? { detail: a.detail } : {}), size: a.size, status, ...(failed.has(id) ? { error: failed.get(id) } : {}) };
    }),
    problems: r.problems,
    fatal: r.exec?.fatal ? String((r.exec.fatal as Error).message ?? r.exec.fatal) : undefined,
  };
}
