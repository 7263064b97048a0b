import { describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serviceDir, type AppPaths } from '../../config/paths.js';
import { createLogger, flushLog } from '../../service/logger.js';
import { logFiles, serviceLogFile } from '../../service/log-files.js';
import type { Context } from '../context.js';
import type { CommandDeps } from '../deps.js';
import { addServiceLogsCommand, followLog, formatLogLine } from './service-logs.js';

const at = new Date(2026, 10, 30, 0, 12, 3).getTime();

/** until waits for `cond` to hold (no deadline of its own: the test's timeout is the limit). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await sleep(20);
}

describe('formatLogLine', () => {
  it('makes a readable line in local time with key=value pairs', () => {
    const line = JSON.stringify({ level: 30, time: at, pid: 7, msg: 'uploaded', path: 'a b/c.flac', bytes: 12, ok: true, run: { id: 'r1' } });
    expect(formatLogLine(line)).toBe('2026-11-30 00:12:03 INFO  uploaded path="a b/c.flac" bytes=12 ok=true run={"id":"r1"}');
    const err = JSON.stringify({ level: 50, time: at, msg: 'failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n at x' } });
    expect(formatLogLine(err)).toBe('2026-11-30 00:12:03 ERROR failed err=boom');
  });

  it('keeps control characters from untrusted names off the terminal', () => {
    const line = JSON.stringify({ level: 40, time: at, msg: 'bad\nname', path: 'x\u001b[2Jy' });
    const out = formatLogLine(line);
    expect(out).not.toMatch(/[\n\u001b]/);
    expect(out).toBe('2026-11-30 00:12:03 WARN  bad\\x0aname path=x\\x1b[2Jy');
    expect(formatLogLine('not json \u0007')).toBe('not json \\x07');
  });
});

describe('the service log file', () => {
  it('holds no token, secret or URL credentials', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-log-'));
    const log = await createLogger({ file: serviceLogFile(dir) });
    log.info({ token: 'TOKEN1', headers: { authorization: 'Bearer TOKEN2' }, remote: { secretAccessKey: 'SECRET3' }, url: 'https://AK4:SK5@s3.example/b' }, 'opened s3://AK6:SK7@host/b');
    flushLog(log);
    await until(() => logFiles(dir).length > 0 && readFileSync(logFiles(dir)[0]!, 'utf8').includes('opened'));
    const files = logFiles(dir);
    expect(files).toEqual([join(dir, 'service.1.log')]);
    const text = readFileSync(files[0]!, 'utf8');
    for (const secret of ['TOKEN1', 'TOKEN2', 'SECRET3', 'AK4', 'SK5', 'AK6', 'SK7']) expect(text).not.toContain(secret);
    expect(text).toContain('https://***@s3.example/b');
  });

  it('-f follows the log across rotations: every line once, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cs-log-'));
    const log = await createLogger({ file: serviceLogFile(dir) }, 'info', { size: '1k', keep: 50 });
    log.info({ i: 0 }, 'line');
    await until(() => logFiles(dir).length > 0 && readFileSync(logFiles(dir)[0]!, 'utf8').includes('"i":0'));
    const seen: number[] = [];
    const ac = new AbortController();
    const following = followLog(dir, (l) => seen.push((JSON.parse(l) as { i: number }).i), ac.signal);
    for (let i = 1; i < 60; i++) {
      log.info({ i, pad: 'x'.repeat(100) }, 'line');
      await sleep(1); // let each write land so that the file rolls over as it fills
    }
    await until(() => seen.length >= 60);
    ac.abort();
    await following;
    expect(logFiles(dir).length).toBeGreaterThan(3);
    expect(seen).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('service logs prints the current file as one-liners, and raw with --json', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cs-log-'));
    const paths: AppPaths = { configFile: join(home, 'config.json'), dataDir: join(home, 'data'), stateDir: join(home, 'state') };
    const dir = serviceDir(paths, paths.configFile);
    mkdirSync(dir, { recursive: true });
    const raw = [JSON.stringify({ level: 30, time: at, pid: 1, msg: 'started', port: 4000 }), JSON.stringify({ level: 20, time: at, msg: 'idle' })];
    writeFileSync(join(dir, 'service.1.log'), 'old\n');
    writeFileSync(join(dir, 'service.2.log'), `${raw.join('\n')}\n`);
    const run = async (json: boolean) => {
      let out = '';
      const program = new Command('cratesync').exitOverride();
      const service = program.command('service');
      const deps: CommandDeps = {
        io: { stdout: { write: (s: string) => void (out += s), drained: async () => {} }, stderr: { write: () => {}, drained: async () => {} } } as unknown as CommandDeps['io'],
        signal: new AbortController().signal,
        exit: () => {},
        ctxFor: async () => ({ paths, configFile: paths.configFile, global: { json }, config: {} }) as unknown as Context,
      };
      addServiceLogsCommand(service, deps);
      await program.parseAsync(['node', 'cratesync', 'service', 'logs']);
      return out;
    };
    expect(await run(false)).toBe('2026-11-30 00:12:03 INFO  started port=4000\n2026-11-30 00:12:03 DEBUG idle\n');
    expect(await run(true)).toBe(`${raw.join('\n')}\n`);
  });
});
