/**
 * The dashboard's links and sessions on their own, with a clock the test
 * moves: a link works once and for 10 minutes, a session ends after 12 hours
 * unused (and not while used), secrets compare safely whatever their length.
 */
import { describe, expect, it } from 'vitest';
import { DashboardAccess, LINK_TTL_MS, SESSION_IDLE_MS, secretEquals } from './dashboard-access.js';
import { sessionCookies } from './dashboard-access-routes.js';

function clocked() {
  let t = 1_000_000;
  const access = new DashboardAccess({ now: () => t });
  return { access, tick: (ms: number) => (t += ms) };
}

describe('dashboard access', () => {
  it('mints 32-byte base64url secrets, each different', () => {
    const { access } = clocked();
    const a = access.mintLink();
    const b = access.mintLink();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('a link opens one session, once', () => {
    const { access } = clocked();
    const secret = access.mintLink();
    const first = access.redeem(secret);
    expect(first?.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first?.session.csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first?.session.csrf).not.toBe(first?.id);
    expect(access.redeem(secret)).toBeUndefined();
    expect(access.session(first?.id)).toBe(first?.session);
  });

  it('a link stops working 10 minutes after it was made, and a failed try still uses it up', () => {
    const { access, tick } = clocked();
    const early = access.mintLink();
    const late = access.mintLink();
    tick(LINK_TTL_MS - 1);
    expect(access.redeem(early)).toBeDefined();
    tick(1);
    expect(access.redeem(late)).toBeUndefined();
    expect(access.redeem('not-a-link')).toBeUndefined();
    expect(access.redeem('')).toBeUndefined();
  });

  it('a session ends after 12 hours unused; each use starts the idle time again', () => {
    const { access, tick } = clocked();
    const a = access.redeem(access.mintLink());
    const b = access.redeem(access.mintLink());
    for (let i = 0; i < 3; i++) {
      tick(SESSION_IDLE_MS - 1);
      expect(access.session(a?.id)).toBeDefined();
    }
    expect(access.session(b?.id)).toBeUndefined();
    tick(SESSION_IDLE_MS);
    expect(access.session(a?.id)).toBeUndefined();
    // Once ended, it stays ended.
    tick(-SESSION_IDLE_MS);
    expect(access.session(a?.id)).toBeUndefined();
  });

  it('end closes a session; unknown and empty ids open none', () => {
    const { access } = clocked();
    const a = access.redeem(access.mintLink());
    access.end(a?.id);
    expect(access.session(a?.id)).toBeUndefined();
    expect(access.session(undefined)).toBeUndefined();
    expect(access.session('')).toBeUndefined();
    expect(access.session(`${a?.id}x`)).toBeUndefined();
  });

  it('holds a bounded number of links and sessions: the oldest go first', () => {
    const { access } = clocked();
    const first = access.mintLink();
    for (let i = 0; i < 200; i++) access.mintLink();
    expect(access.redeem(first)).toBeUndefined();
    const s = access.redeem(access.mintLink());
    for (let i = 0; i < 200; i++) access.redeem(access.mintLink());
    expect(access.session(s?.id)).toBeUndefined();
  });

  it('secretEquals: equal only when equal, never throws on other lengths', () => {
    const held = 'k'.repeat(43);
    expect(secretEquals(held, held)).toBe(true);
    for (const given of ['k'.repeat(42), 'k'.repeat(44), 'k', 'j'.repeat(43), '', undefined, 'k'.repeat(10_000), 'ü'.repeat(43)]) {
      expect(secretEquals(given, held), String(given?.length)).toBe(false);
    }
    expect(secretEquals('', '')).toBe(false);
  });

  it('sessionCookies finds every cratesync_session cookie, and only well-formed ones', () => {
    expect(sessionCookies(undefined)).toEqual([]);
    expect(sessionCookies('a=1; cratesync_session=abc_-1; b=2')).toEqual(['abc_-1']);
    expect(sessionCookies('cratesync_session=one;cratesync_session=two')).toEqual(['one', 'two']);
    expect(sessionCookies('xcratesync_session=no; cratesync_session="q"; cratesync_session=; cratesync_session')).toEqual([]);
  });
});
