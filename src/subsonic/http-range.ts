/**
 * The HTTP Range header of a stream or download, as far as a player needs
 * it: one range of bytes (`bytes=a-b`, `bytes=a-`, `bytes=-n`). Several
 * ranges at once, other units and malformed values are ignored, and the
 * whole file is served (RFC 9110 lets a server ignore a Range header).
 */

/** What a request asks for: the whole file, bytes from `start` (to `end`, inclusive), or the last `length` bytes. */
export type RangeAsk = { kind: 'whole' } | { kind: 'from'; start: number; end?: number } | { kind: 'suffix'; length: number };

const ONE = /^bytes=(\d*)-(\d*)$/i;

/** parseRange reads a Range header (null: none). */
export function parseRange(header: string | null): RangeAsk {
  const m = ONE.exec(header?.trim() ?? '');
  if (!m) return { kind: 'whole' };
  const [a, b] = [m[1] ?? '', m[2] ?? ''];
  if (a === '' && b === '') return { kind: 'whole' };
  const num = (s: string) => (s.length > 15 ? Number.MAX_SAFE_INTEGER : Number(s));
  if (a === '') return { kind: 'suffix', length: num(b) };
  const start = num(a);
  if (b === '') return { kind: 'from', start };
  const end = num(b);
  return end < start ? { kind: 'whole' } : { kind: 'from', start, end };
}

/**
 * resolveRange gives the bytes of a file of `size` bytes that `ask` wants
 * (`end` inclusive, clamped to the last byte), or undefined when the ask
 * cannot be satisfied (a start past the end, an empty suffix, any range of
 * an empty file): the caller answers 416.
 */
export function resolveRange(ask: RangeAsk, size: number): { start: number; end: number } | undefined {
  switch (ask.kind) {
    case 'whole':
      return { start: 0, end: size - 1 };
    case 'suffix':
      if (ask.length === 0 || size === 0) return undefined;
      return { start: Math.max(0, size - ask.length), end: size - 1 };
    case 'from':
      if (ask.start >= size) return undefined;
      return { start: ask.start, end: Math.min(ask.end ?? size - 1, size - 1) };
  }
}
