import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { authenticate, type UserDirectory } from './auth.js';
import { paramsOf } from './params.js';
import { RateLimiter } from './rate-limit.js';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');
const q = (o: Record<string, string>) => paramsOf(new URLSearchParams(o));

function directory(): UserDirectory & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    password: (name) => {
      asked.push(name);
      return name === 'bob' ? 'sésame' : undefined;
    },
    userByApiKey: (key) => (key === 'KEY' ? 'bob' : undefined),
  };
}

const limiter = () => new RateLimiter({ maxFailures: 3, now: () => 0 });
const auth = (o: Record<string, string>, l = limiter(), users = directory()) => authenticate(q(o), users, l, '127.0.0.1');
const code = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as { code?: number }).code;
  }
  return 'no error';
};

describe('authenticate', () => {
  it('accepts u+t+s with t = md5(password + s), in either case of hex', () => {
    expect(auth({ u: 'bob', t: md5('sésame' + 'abc123'), s: 'abc123' })).toEqual({ name: 'bob' });
    expect(auth({ u: 'bob', t: md5('sésame' + 's').toUpperCase(), s: 's' })).toEqual({ name: 'bob' });
  });

  it('accepts u+p plain and enc:hex', () => {
    expect(auth({ u: 'bob', p: 'sésame' })).toEqual({ name: 'bob' });
    expect(auth({ u: 'bob', p: `enc:${Buffer.from('sésame').toString('hex')}` })).toEqual({ name: 'bob' });
    expect(code(() => auth({ u: 'bob', p: 'enc:zz' }))).toBe(40);
    expect(code(() => auth({ u: 'bob', p: 'enc:736' }))).toBe(40);
  });

  it('accepts an apiKey alone; 44 for an unknown key; 43 when u (or p, t, s) comes with it', () => {
    expect(auth({ apiKey: 'KEY' })).toEqual({ name: 'bob' });
    expect(code(() => auth({ apiKey: 'nope' }))).toBe(44);
    expect(code(() => auth({ apiKey: '' }))).toBe(44);
    expect(code(() => auth({ apiKey: 'KEY', u: 'bob' }))).toBe(43);
    expect(code(() => auth({ apiKey: 'KEY', p: 'sésame' }))).toBe(43);
    expect(code(() => auth({ apiKey: 'KEY', t: 'x', s: 'y' }))).toBe(43);
  });

  it('40 for a wrong password or token, and for an unknown user after the same look-up', () => {
    expect(code(() => auth({ u: 'bob', p: 'wrong' }))).toBe(40);
    expect(code(() => auth({ u: 'bob', t: md5('wrong' + 's'), s: 's' }))).toBe(40);
    expect(code(() => auth({ u: 'bob', t: md5('sésame' + 's'), s: 'other' }))).toBe(40);
    const users = directory();
    expect(code(() => auth({ u: 'mallory', p: 'sésame' }, limiter(), users))).toBe(40);
    expect(users.asked).toEqual(['mallory']);
  });

  it('10 when credentials are missing or incomplete', () => {
    expect(code(() => auth({}))).toBe(10);
    expect(code(() => auth({ u: 'bob' }))).toBe(10);
    expect(code(() => auth({ p: 'sésame' }))).toBe(10);
    expect(code(() => auth({ u: 'bob', t: md5('sésame') }))).toBe(10);
  });

  it('refuses even the right password while the address is limited, without looking it up', () => {
    const l = limiter();
    for (let i = 0; i < 3; i++) expect(code(() => auth({ u: 'bob', p: 'wrong' }, l))).toBe(40);
    const users = directory();
    expect(() => auth({ u: 'bob', p: 'sésame' }, l, users)).toThrow(/Too many failed login attempts; wait \d+ s/);
    expect(() => auth({ apiKey: 'KEY' }, l, users)).toThrow(/Too many failed/);
    expect(users.asked).toEqual([]);
  });

  it('a success clears the failures counted so far', () => {
    const l = limiter();
    for (let i = 0; i < 2; i++) expect(code(() => auth({ u: 'bob', p: 'wrong' }, l))).toBe(40);
    auth({ u: 'bob', p: 'sésame' }, l);
    for (let i = 0; i < 2; i++) expect(code(() => auth({ u: 'bob', p: 'wrong' }, l))).toBe(40);
    expect(auth({ u: 'bob', p: 'sésame' }, l)).toEqual({ name: 'bob' });
  });
});
