import { describe, expect, it } from 'vitest';
import { parseRange, resolveRange } from './http-range.js';

describe('HTTP Range', () => {
  it.each([
    [null, { start: 0, end: 99 }],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=90-', { start: 90, end: 99 }],
    ['bytes=90-500', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=-500', { start: 0, end: 99 }],
    // Ignored, so the whole file: several ranges, other units, malformed, reversed.
    ['bytes=0-1,5-6', { start: 0, end: 99 }],
    ['items=0-1', { start: 0, end: 99 }],
    ['bytes=x-1', { start: 0, end: 99 }],
    ['bytes=-', { start: 0, end: 99 }],
    ['bytes=9-2', { start: 0, end: 99 }],
    // Unsatisfiable: 416.
    ['bytes=100-', undefined],
    ['bytes=100-200', undefined],
    ['bytes=-0', undefined],
    ['bytes=99999999999999999999-', undefined],
  ])('%s of 100 bytes', (header, want) => {
    expect(resolveRange(parseRange(header), 100)).toEqual(want);
  });

  it('any range of an empty file is unsatisfiable; the whole of it is nothing', () => {
    expect(resolveRange(parseRange('bytes=0-'), 0)).toBeUndefined();
    expect(resolveRange(parseRange('bytes=-5'), 0)).toBeUndefined();
    expect(resolveRange(parseRange(null), 0)).toEqual({ start: 0, end: -1 });
  });
});
