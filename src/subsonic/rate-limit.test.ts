import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

function clocked(o: ConstructorParameters<typeof RateLimiter>[0] = {}) {
  const clock = { t: 1_000_000 };
  return { clock, limiter: new RateLimiter({ maxFailures: 3, maxUserFailures: 5, windowMs: 60_000, backoffMs: 10_000, maxBackoffMs: 40_000, now: () => clock.t, ...o }) };
}

describe('rate limiter', () => {
  it('blocks an address after N failures, for a backoff that doubles with each block and is capped', () => {
    const { clock, limiter } = clocked();
    limiter.failure('1.2.3.4');
    limiter.failure('1.2.3.4');
    expect(limiter.blockedFor('1.2.3.4')).toBe(0);
    limiter.failure('1.2.3.4');
    expect(limiter.blockedFor('1.2.3.4')).toBe(10_000);
    expect(limiter.blockedFor('5.6.7.8')).toBe(0);
    clock.t += 10_000;
    expect(limiter.blockedFor('1.2.3.4')).toBe(0);
    limiter.failure('1.2.3.4');
    expect(limiter.blockedFor('1.2.3.4')).toBe(20_000);
    clock.t += 20_000;
    limiter.failure('1.2.3.4');
    expect(limiter.blockedFor('1.2.3.4')).toBe(40_000);
    clock.t += 40_000;
    limiter.failure('1.2.3.4');
    expect(limiter.blockedFor('1.2.3.4')).toBe(40_000);
  });

  it('a success clears the address and the user', () => {
    const { limiter } = clocked();
    for (let i = 0; i < 3; i++) limiter.failure('a', 'bob');
    expect(limiter.blockedFor('a')).toBeGreaterThan(0);
    limiter.success('a', 'bob');
    expect(limiter.blockedFor('a', 'bob')).toBe(0);
    limiter.failure('a', 'bob');
    expect(limiter.blockedFor('a', 'bob')).toBe(0);
  });

  it('counts failures against one user name across addresses, with its own threshold', () => {
    const { limiter } = clocked();
    for (let i = 0; i < 4; i++) limiter.failure(`10.0.0.${i}`, 'bob');
    expect(limiter.blockedFor('10.0.0.99', 'bob')).toBe(0);
    limiter.failure('10.0.0.4', 'bob');
    expect(limiter.blockedFor('10.0.0.99', 'bob')).toBe(10_000);
    expect(limiter.blockedFor('10.0.0.99', 'alice')).toBe(0);
  });

  it('forgets failures older than the window', () => {
    const { clock, limiter } = clocked();
    limiter.failure('a');
    limiter.failure('a');
    clock.t += 60_001;
    limiter.failure('a');
    expect(limiter.blockedFor('a')).toBe(0);
  });

  it('keeps at most maxEntries, forgetting the least recently touched', () => {
    const { limiter } = clocked({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) limiter.failure(`addr${i}`);
    expect(limiter.size).toBe(100);
    for (let i = 0; i < 3; i++) limiter.failure('last');
    expect(limiter.blockedFor('last')).toBeGreaterThan(0);
  });
});
