/** Rendering plans and results: text for people, JSON for programs. */
/** A running service that holds the library, as `status` mentions it. */
export interface ServiceBrief {
  pid: number;
  state: string;
  reason?: string;
  queue: number;
}

import type { Action, Direction, Plan } from '../sync/plan.js';
import type { SyncResult } from '../sync/engine.js';
import { formatBytes, formatCount, printable } from './format.js';
import { musicKey } from '../sync/layout.js';
import { isCopy, isTrash } from '../sync/action-kinds.js';
import { tally, unchanged } from '../sync/run-summary.js';
import { describeAction, describeDetail, describeReason } from './describe-action.js';

/**
 * shown picks the actions worth listing: identical files (the bulk of a
 * large library, counted in the summary anyway) only when `all`.
 */
function* shown(p: Plan, all: boolean): Generator<Action> {
  if (!all) {
    for (const a of p.actions) if (!(a.kind === 'skip' && a.reason === 'identical')) yield a;
    return;
  }
  const settled = p.identical.map((path): Action => ({ kind: 'skip', path, key: musicKey(path), size: 0, reason: 'identical' }));
  yield* [...p.actions, ...settled].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** renderPlan lists the actions of a dry run: what, which file, why (identical files only with `all`). */
export function renderPlan(p: Plan, all = false): string {
  let out = '';
  for (const a of shown(p, all)) out += `${a.kind.padEnd(12)} ${printable(`${a.path}  (${describeAction(a)}${a.size ? `, ${formatBytes(a.size)}` : ''})`)}\n`;
  return out;
}

/** renderStatus shows what differs, grouped, and counts what does not. */
export function renderStatus(where: { library: string; remote: string }, r: SyncResult): string {
  const acts = r.plan.actions;
  const groups: Array<[string, Action[]]> = [
    ['only in the library (push or sync would upload)', acts.filter((a) => a.kind === 'upload' && a.reason === 'new')],
    ['only on the remote (pull or sync would download)', acts.filter((a) => a.kind === 'download' && a.reason === 'new')],
    ['changed in the library', acts.filter((a) => a.kind === 'upload' && a.reason !== 'new' && a.reason !== 'tags-changed')],
    ['changed on the remote', acts.filter((a) => a.kind === 'download' && a.reason !== 'new' && a.reason !== 'tags-changed')],
    ['tags changed (same audio)', acts.filter((a) => (a.kind === 'upload' || a.kind === 'download') && a.reason === 'tags-changed')],
    ['moved or copied (no transfer needed)', acts.filter(isCopy)],
    ['conflicts: changed on both sides', acts.filter((a) => a.kind === 'conflict')],
    ['deleted on one side (--delete propagates)', acts.filter((a) => isTrash(a) || (a.kind === 'skip' && (a.reason === 'deleted-locally' || a.reason === 'deleted-remotely')))],
    ['names refused', acts.filter((a) => a.kind === 'error')],
  ];
  let out = `library ${where.library}\nremote  ${where.remote}\n`;
  for (const [title, list] of groups) {
    if (list.length === 0) continue;
    out += `\n${title}: ${formatCount(list.length)}\n`;
    for (const a of list) {
      // What becomes of a replaced version is the same for every transfer: not repeated per file.
      const detail = a.kind === 'upload' || a.kind === 'download' ? undefined : describeDetail(a);
      out += `  ${printable(`${a.path}${detail ? `: ${detail}` : ''}`)}\n`;
    }
  }
  const same = unchanged(r.plan);
  const differing = groups.reduce((n, [, l]) => n + l.length, 0);
  out += `\n${formatCount(same)} identical, ${formatCount(differing)} differ${r.problems.length ? `, ${r.problems.length} warnings` : ''}\n`;
  return out;
}

/**
 * resultJson yields the --json document of push, pull, sync and status, in
 * pieces of about 64 KiB: an initial push lists one action per file, and the
 * whole text (with the objects it was made from) would be the run's biggest
 * allocation. Its `actions` leave out identical files
 * (counted in `summary.unchanged`) unless `all`; each action is one line.
 */
export function* resultJson(command: Direction | 'status', where: { library: string; remote: string; service?: ServiceBrief }, r: SyncResult, all = false): Generator<string> {
  const t = tally(r.exec?.done ?? r.plan.actions);
  const failed = new Map((r.exec?.failed ?? []).map((f) => [`${f.kind}:${f.path}`, f.message]));
  // Which actions were carried out need be looked up only when some were
  // not (a run stopped early): else each is done unless it failed.
  let due = 0;
  for (const a of r.plan.actions) if (a.kind !== 'skip') due++;
  const done = r.exec && r.exec.done.length + r.exec.failed.length < due ? new Set<Action>(r.exec.done) : undefined;
  const head = {
    command,
    ...where,
    dryRun: !r.exec,
    elapsedMs: Math.round(r.elapsedMs),
    hashed: r.hashed,
    listed: r.listed,
    summary: {
      // Files whose bytes were sent: copies, moves and conflicts are counted apart.
      transferred: r.exec ? t.uploaded + t.downloaded : 0,
      bytes: r.exec?.bytes ?? 0,
      uploaded: t.uploaded,
      downloaded: t.downloaded,
      moved: t.moved,
      tagOnly: t.tagOnly,
      conflicts: t.conflicts,
      trashed: t.trashed,
      unchanged: unchanged(r.plan),
      refreshed: r.refreshed,
      failed: r.exec?.failed.length ?? r.plan.actions.filter((a) => a.kind === 'error').length,
      warnings: r.problems.length,
    },
    ...(r.exec?.fatal ? { fatal: String((r.exec.fatal as Error).message ?? r.exec.fatal) } : {}),
    problems: r.problems,
  };
  let chunk = `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "actions": [`;
  let first = true;
  for (const a of shown(r.plan, all)) {
    const id = `${a.kind}:${a.path}`;
    const error = failed.get(id);
    const status = !r.exec ? 'planned' : a.kind === 'skip' ? 'skipped' : error !== undefined ? 'failed' : !done || done.has(a) ? 'done' : 'not started';
    const detail = describeDetail(a);
    const entry = {
      kind: a.kind,
      path: a.path,
      key: a.key,
      reason: describeReason(a),
      code: a.reason,
      ...(detail ? { detail } : {}),
      // copy-remote: the source key; copy-local and move-local: the source library path.
      ...(isCopy(a) ? { from: a.from } : {}),
      ...(a.kind === 'conflict' ? { conflictPath: a.conflictPath } : {}),
      ...(a.kind === 'trash-remote' && a.movedTo !== undefined ? { movedTo: a.movedTo } : {}),
      size: a.size,
      status,
      ...(error !== undefined ? { error } : {}),
    };
    chunk += `${first ? '' : ','}\n    ${JSON.stringify(entry)}`;
    first = false;
    if (chunk.length >= 65536) {
      yield chunk;
      chunk = '';
    }
  }
  yield `${chunk}${first ? '' : '\n  '}]\n}\n`;
}
