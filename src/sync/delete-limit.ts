/**
 * The delete limit: a run that would move more of either side to trash than
 * the user allows (`--max-delete`) is refused before anything changes.
 */
import type { Plan } from './plan.js';
import { DeleteLimitError } from '../errors.js';
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
