/**
 * The byte range a Remote.openRead serves, worked out against the object's
 * size in one place for every remote (see remote.ts).
 */
import { RangeNotSatisfiableError } from '../errors.js';
import type { ByteRange } from './remote.js';

/**
 * rangeWithin gives the bytes of an object of `size` bytes that `range`
 * asks for: the whole object without one (`end` is -1 when it is empty),
 * else `start` to `end` clamped to the last byte. Throws
 * RangeNotSatisfiableError naming `key` when `range.start` is past the last
 * byte, or the range is not offsets in order.
 */
export function rangeWithin(key: string, size: number, range?: ByteRange): { start: number; end: number } {
  if (!range) return { start: 0, end: size - 1 };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0 || start >= size) throw new RangeNotSatisfiableError(key, size);
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) throw new RangeNotSatisfiableError(key, size);
  return { start, end: Math.min(end ?? size - 1, size - 1) };
}
