/**
 * forEachLimit runs `fn` over `items` with at most `limit` calls in flight,
 * in order of start. It waits for every call; a call that throws rejects
 * the whole run only after the others settle, so callers that must go on
 * past failures catch inside `fn`. Stops starting new calls once `signal`
 * is aborted.
 */
export async function forEachLimit<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const it = items[Symbol.iterator]();
  let index = 0;
  let firstError: unknown;
  let failed = false;
  const worker = async () => {
    for (;;) {
      if (signal?.aborted || failed) return;
      const next = it.next();
      if (next.done) return;
      const i = index++;
      try {
        await fn(next.value, i);
      } catch (err) {
        if (!failed) firstError = err;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failed) throw firstError;
}
