/**
 * Writes through the Subsonic server read what is there, change it and write
 * it back (a playlist's entries, a song's play count): two requests doing so
 * at once would lose one change. serially() runs them one after another per
 * server context; reads never wait.
 */
const tails = new WeakMap<object, Promise<unknown>>();

/** serially runs `fn` once every earlier serially() call of the same `ctx` has settled; returns what it returns or throws. */
export function serially<T>(ctx: object, fn: () => Promise<T>): Promise<T> {
  const before = tails.get(ctx) ?? Promise.resolve();
  const run = before.then(fn, fn);
  // The next caller waits for this one to settle, whatever its outcome.
  tails.set(
    ctx,
    run.then(
      () => undefined,
      () => undefined,
    ),
  );
  return run;
}
