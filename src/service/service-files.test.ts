import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireServiceLock, createToken, liveService, readServiceInfo, readToken, writeServiceInfo, type ServiceInfo } from './service-files.js';

const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
const info = (pid: number, port = 41234): ServiceInfo => ({ pid, port, startedAt: 1, configFile: '/home/u/c.json', library: '/music', version: '0.1.0' });

describe('service files', () => {
  const root = mkdtempSync(join(tmpdir(), 'cs-svc-'));

  it('writes the token with mode 0600 in a 0700 folder, and reads it back', () => {
    const dir = join(root, 'a', 'svc');
    const token = createToken(dir);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readToken(dir)).toBe(token);
    if (process.platform !== 'win32') {
      expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    }
    expect(createToken(dir)).not.toBe(token);
  });

  it('keeps the token 0600 under a permissive umask', () => {
    const dir = join(root, 'umask');
    const old = process.umask(0);
    try {
      createToken(dir);
    } finally {
      process.umask(old);
    }
    expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o600);
  });

  it('refuses a token file that is not one, naming it', () => {
    const dir = join(root, 'badtoken');
    createToken(dir);
    writeFileSync(join(dir, 'token'), 'x y\n');
    expect(() => readToken(dir)).toThrow(`${join(dir, 'token')}: not a service token`);
    expect(() => readToken(join(root, 'none'))).toThrow(/cannot read the service token/);
  });

  it('reads service.json back validated; a broken or foreign one is no service', () => {
    const dir = join(root, 'info');
    writeServiceInfo(dir, info(process.pid));
    expect(readServiceInfo(dir)).toEqual(info(process.pid));
    expect(liveService(dir)).toEqual(info(process.pid));
    writeFileSync(join(dir, 'service.json'), '{"pid": "1", "port": 99999}');
    expect(readServiceInfo(dir)).toBeUndefined();
    writeFileSync(join(dir, 'service.json'), '{');
    expect(readServiceInfo(dir)).toBeUndefined();
  });

  it('liveService ignores a service.json whose process died', () => {
    const dir = join(root, 'stale');
    writeServiceInfo(dir, info(deadPid()));
    expect(readServiceInfo(dir)).toBeDefined();
    expect(liveService(dir)).toBeUndefined();
  });

  it('refuses a second service while the first lives, naming its config, pid and port', () => {
    const dir = join(root, 'live');
    const release = acquireServiceLock(dir, '/home/u/c.json');
    // The parent of this process stands in for a live service.
    writeFileSync(join(dir, 'lock'), `${process.ppid}\n`);
    writeServiceInfo(dir, info(process.ppid, 45678));
    expect(() => acquireServiceLock(dir, '/home/u/c.json')).toThrow(
      `a cratesync service already runs for /home/u/c.json (pid ${process.ppid}, port 45678); stop it with cratesync service stop`,
    );
    writeFileSync(join(dir, 'lock'), `${process.pid}\n`);
    // A second one within this process is refused too.
    expect(() => acquireServiceLock(dir)).toThrow(new RegExp(`already runs for /home/u/c.json \\(pid ${process.pid}, port not known yet\\)`));
    createToken(dir);
    release();
    expect(existsSync(join(dir, 'lock'))).toBe(false);
    expect(existsSync(join(dir, 'token'))).toBe(false);
    expect(existsSync(join(dir, 'service.json'))).toBe(false);
  });

  it('takes over the lock of a service that died', () => {
    const dir = join(root, 'dead');
    const dead = deadPid();
    acquireServiceLock(dir)(); // creates the folder
    writeFileSync(join(dir, 'lock'), `${dead}\n`);
    writeServiceInfo(dir, info(dead));
    const release = acquireServiceLock(dir, '/home/u/c.json');
    expect(readFileSync(join(dir, 'lock'), 'utf8').trim()).toBe(String(process.pid));
    release();
  });
});
