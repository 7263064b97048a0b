import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireRunLock } from './run-lock.js';

describe('acquireRunLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-lock-'));

  it('is taken once, refused to a second taker while the owner lives, free again after release', () => {
    const file = join(dir, 'a.lock');
    const release = acquireRunLock(file, '/music');
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    // The parent of this process stands in for another live run.
    writeFileSync(file, `${process.ppid}\n`);
    expect(() => acquireRunLock(file, '/music')).toThrow(new RegExp(`another cratesync run \\(pid ${process.ppid}\\) is working on /music`));
    writeFileSync(file, `${process.pid}\n`);
    release();
    expect(existsSync(file)).toBe(false);
    acquireRunLock(file, '/music')();
  });

  it('takes over a lock whose owner died', () => {
    const file = join(dir, 'b.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    writeFileSync(file, `${dead}\n`);
    const release = acquireRunLock(file, '/music');
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});

describe('acquireRunLock within one process', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-lock-'));

  it('refuses a second taker in the same process (two sessions of a service), and frees the lock on release', () => {
    const file = join(dir, 'c.lock');
    const release = acquireRunLock(file, '/music');
    expect(() => acquireRunLock(file, '/music')).toThrow(new RegExp(`another cratesync run \\(pid ${process.pid}\\) is working on /music`));
    expect(existsSync(file)).toBe(true);
    release();
    acquireRunLock(file, '/music')();
  });

  it('takes over a lock with this pid that this process does not hold (left by an earlier process with the same pid)', () => {
    const file = join(dir, 'd.lock');
    writeFileSync(file, `${process.pid}\n`);
    const release = acquireRunLock(file, '/music');
    expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(existsSync(file)).toBe(false);
  });
});
