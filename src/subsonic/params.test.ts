import { describe, expect, it } from 'vitest';
import { bool, ids, int, paramsOf, required } from './params.js';

const q = (s: string, form?: string) => paramsOf(new URLSearchParams(s), form === undefined ? undefined : new URLSearchParams(form));

describe('params', () => {
  it('merges the query and a form body, query first, repeats kept', () => {
    const p = q('id=a&u=x', 'id=b&id=a&p=y');
    expect(p.get('u')).toBe('x');
    expect(p.get('p')).toBe('y');
    expect(p.get('id')).toBe('a');
    expect(p.all('id')).toEqual(['a', 'b', 'a']);
    expect(p.get('none')).toBeUndefined();
    expect(p.all('none')).toEqual([]);
  });

  it('required: the value, or code 10 naming the parameter when absent or empty', () => {
    expect(required(q('id=x'), 'id')).toBe('x');
    expect(() => required(q(''), 'id')).toThrow(expect.objectContaining({ code: 10, message: 'Required parameter is missing: id' }));
    expect(() => required(q('id='), 'id')).toThrow(expect.objectContaining({ code: 10 }));
  });

  it('int: default when absent, clamped to min..max, code 0 naming the parameter when no integer', () => {
    expect(int(q(''), 'size', { default: 10 })).toBe(10);
    expect(int(q('size=7'), 'size', { default: 10, min: 0, max: 500 })).toBe(7);
    expect(int(q('size=1000'), 'size', { min: 0, max: 500 })).toBe(500);
    expect(int(q('offset=-3'), 'offset', { min: 0 })).toBe(0);
    expect(() => int(q(''), 'size')).toThrow(expect.objectContaining({ code: 10 }));
    for (const bad of ['1.5', 'ten', '1e3', '0x10', '99999999999999999999']) {
      expect(() => int(q(`size=${bad}`), 'size', { default: 1 })).toThrow(expect.objectContaining({ code: 0, message: 'Parameter size is not an integer' }));
    }
  });

  it('bool: true/false/1/0, undefined when absent, code 0 otherwise', () => {
    expect(bool(q('a=true&b=0&c=FALSE&d=1'), 'a')).toBe(true);
    expect(bool(q('a=true&b=0'), 'b')).toBe(false);
    expect(bool(q('c=FALSE'), 'c')).toBe(false);
    expect(bool(q(''), 'a')).toBeUndefined();
    expect(() => bool(q('a=yes'), 'a')).toThrow(expect.objectContaining({ code: 0 }));
  });

  it('ids: every non-empty value once, in order', () => {
    expect(ids(q('id=b&id=a&id=&id=b'), 'id')).toEqual(['b', 'a']);
    expect(ids(q(''), 'id')).toEqual([]);
  });
});
