/** OwnWrites on a fake clock. */
import { describe, expect, it } from 'vitest';
import { OwnWrites } from './own-writes.js';

function setup() {
  const clock = { t: 1000 };
  return { clock, own: new OwnWrites(() => clock.t) };
}

describe('OwnWrites', () => {
  it('ignores a path from begin until graceMs after end, then no more', () => {
    const { clock, own } = setup();
    expect(own.ignores('A/a.flac')).toBe(false);
    own.begin('A/a.flac');
    expect(own.ignores('A/a.flac')).toBe(true);
    expect(own.ignores('A/b.flac')).toBe(false);
    expect(own.ignores('A')).toBe(false);
    clock.t = 60_000; // a long download: still ignored while under way
    expect(own.ignores('A/a.flac')).toBe(true);
    own.end('A/a.flac', 500);
    clock.t = 60_500;
    expect(own.ignores('A/a.flac')).toBe(true);
    clock.t = 60_501;
    expect(own.ignores('A/a.flac')).toBe(false);
    expect(own.size).toBe(0);
  });

  it('uses a default grace time of a couple of seconds', () => {
    const { clock, own } = setup();
    own.begin('x.flac');
    own.end('x.flac');
    clock.t += 1000;
    expect(own.ignores('x.flac')).toBe(true);
    clock.t += 5000;
    expect(own.ignores('x.flac')).toBe(false);
  });

  it('keeps ignoring while overlapping writes of one path are under way', () => {
    const { clock, own } = setup();
    own.begin('a.flac');
    own.begin('a.flac');
    own.end('a.flac', 0);
    clock.t += 10_000;
    expect(own.ignores('a.flac')).toBe(true);
    own.end('a.flac', 0);
    clock.t += 1;
    expect(own.ignores('a.flac')).toBe(false);
  });

  it('never shortens a grace time already running', () => {
    const { clock, own } = setup();
    own.begin('a.flac');
    own.end('a.flac', 5000);
    own.begin('a.flac');
    own.end('a.flac', 100);
    clock.t += 4000;
    expect(own.ignores('a.flac')).toBe(true);
  });

  it('forgets expired writes, so that a long-running service does not grow', () => {
    const { clock, own } = setup();
    for (let i = 0; i < 1000; i++) {
      own.begin(`t${i}.flac`);
      own.end(`t${i}.flac`, 10);
      clock.t += 100;
    }
    expect(own.size).toBeLessThan(300);
  });
});
