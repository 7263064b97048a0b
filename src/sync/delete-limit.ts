/**
 * The delete limit: a run that would move more of either side to trash than
 * the user allows (`--max-delete`) is refused before anything changes.
 */
import type { Plan } from './plan.js';
import { DeleteLimitError, UsageError } from '../errors.js';
import { isDeletion, trashSide } from './action-kinds.js';

/** A limit on deletions: a share of the target (0–100) or an absolute count. */
export type DeleteLimit = { percent: number } | { count: number };

/**
 * checkDeleteLimit throws DeleteLimitError (a SafetyError) when `p` would
 * move more of either side to trash than `limit` allows; nothing has been
 * changed at that point. The old names of moves lose nothing and do not count.
 */
export function checkDeleteLimit(p: Plan, limit: DeleteLimit): void {
  for (const [side, base] of [
    ['remote', p.remoteCount],
    ['local', p.localCount],
  ] as const) {
    let n = 0;
    for (const a of p.actions) if (isDeletion(a) && trashSide(a) === side) n++;
    if (n === 0) continue;
    const share = base === 0 ? 100 : (n / base) * 100;
    const over = 'percent' in limit ? share > limit.percent : n > limit.count;
    if (over) throw new DeleteLimitError({ direction: p.direction, side, n, base, share, limit });
  }
}

/** parseMaxDelete reads "50%" (a share of the target) or "200" (a count). */
export function parseMaxDelete(value: string | number | undefined, flag = '--max-delete'): DeleteLimit {
  if (value === undefined) return { percent: 50 };
  const s = String(value).trim();
  const pct = /^(\d{1,3}(?:\.\d+)?)%$/.exec(s);
  if (pct) {
    const p = Number(pct[1]);
    if (p <= 100) return { percent: p };
  } else if (/^\d+$/.test(s)) {
    return { count: Number(s) };
  }
  throw new UsageError(`${flag} must be a share like 50% or a count like 200, not ${JSON.stringify(value)}`);
}
