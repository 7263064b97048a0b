import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppPaths } from '../../config/paths.js';
import type { Context } from '../context.js';
import type { CommandDeps } from '../deps.js';
import { addServiceInstallCommands } from './service-install.js';

/** Runs `cratesync service <args>` in this process with the service commands of this file only. */
async function service(ctx: Context, ...args: string[]): Promise<{ out: string; error?: Error }> {
  let out = '';
  const program = new Command('cratesync').exitOverride();
  const svc = program.command('service');
  const deps: CommandDeps = {
    io: { stdout: { write: (s: string) => void (out += s), drained: async () => {} }, stderr: { write: () => {}, drained: async () => {} } } as unknown as CommandDeps['io'],
    signal: new AbortController().signal,
    exit: () => {},
    ctxFor: async () => ctx,
  };
  addServiceInstallCommands(svc, deps);
  try {
    await program.parseAsync(['node', 'cratesync', 'service', ...args]);
    return { out };
  } catch (error) {
    return { out, error: error as Error };
  }
}

describe('service install / uninstall', () => {
  let home: string;
  let ctx: Context;
  const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'cs-install-'));
    const paths: AppPaths = { configFile: join(home, 'R&B <mix>', 'config.json'), dataDir: join(home, 'data'), stateDir: join(home, 'state') };
    mkdirSync(join(home, 'R&B <mix>'));
    writeFileSync(paths.configFile, '{"library": "/music"}\n');
    ctx = { paths, configFile: paths.configFile, global: {}, config: {} } as unknown as Context;
    process.env.HOME = home;
    process.env.XDG_CONFIG_HOME = join(home, 'xdg');
  });
  afterEach(() => {
    process.env.HOME = saved.HOME;
    process.env.XDG_CONFIG_HOME = saved.XDG_CONFIG_HOME;
  });

  it('writes a systemd user unit that runs service run with this config, and prints how to enable it', async () => {
    const r = await service(ctx, 'install', '--kind', 'systemd');
    expect(r.error).toBeUndefined();
    const file = /^wrote (.*)$/m.exec(r.out)?.[1] ?? '';
    expect(file).toMatch(new RegExp(`^${join(home, 'xdg', 'systemd', 'user')}/cratesync-config-[0-9a-f]{12}\\.service$`));
    expect(r.out).toMatch(/systemctl --user daemon-reload && systemctl --user enable --now cratesync-config-[0-9a-f]{12}\.service/);
    const unit = readFileSync(file, 'utf8');
    expect(unit).toContain(`"--config" "${ctx.configFile}" "service" "run"`);
    expect(unit).toContain(`ExecStart="${process.execPath}"`);
    expect((await service(ctx, 'install', '--kind', 'systemd')).out).toMatch(/^updated /);
    if (existsSync('/usr/bin/systemd-analyze')) {
      const v = spawnSync('/usr/bin/systemd-analyze', ['verify', file], { encoding: 'utf8' });
      expect(v.stderr.split('\n').filter((l) => l.includes('cratesync-')), v.stderr).toEqual([]);
    }
  });

  it('writes a launchd agent, XML-escaped', async () => {
    const r = await service(ctx, 'install', '--kind', 'launchd');
    expect(r.error).toBeUndefined();
    const file = /^wrote (.*)$/m.exec(r.out)?.[1] ?? '';
    expect(file).toMatch(new RegExp(`^${join(home, 'Library', 'LaunchAgents')}/org\\.cratesync\\.config-[0-9a-f]{12}\\.plist$`));
    expect(r.out).toMatch(/launchctl bootstrap gui\/\d+ /);
    expect(readFileSync(file, 'utf8')).toContain(`<string>${home}/R&amp;B &lt;mix&gt;/config.json</string>`);
  });

  it('uninstall prints how to disable it, then removes it', async () => {
    const file = /^wrote (.*)$/m.exec((await service(ctx, 'install', '--kind', 'systemd')).out)?.[1] ?? '';
    const r = await service(ctx, 'uninstall', '--kind', 'systemd');
    expect(r.error).toBeUndefined();
    expect(r.out).toMatch(/systemctl --user disable --now cratesync-config-[0-9a-f]{12}\.service\nremoved /);
    expect(existsSync(file)).toBe(false);
    expect((await service(ctx, 'uninstall', '--kind', 'systemd')).out).toMatch(/^no service unit installed/);
  });

  it('refuses to remove or replace a file it did not write', async () => {
    const file = /^wrote (.*)$/m.exec((await service(ctx, 'install', '--kind', 'systemd')).out)?.[1] ?? '';
    writeFileSync(file, '[Service]\nExecStart=/bin/true\n');
    const un = await service(ctx, 'uninstall', '--kind', 'systemd');
    expect(un.error?.message).toBe(`${file} was not written by cratesync service install; leaving it as it is`);
    expect(existsSync(file)).toBe(true);
    const re = await service(ctx, 'install', '--kind', 'systemd');
    expect(re.error?.message).toMatch(/exists and was not written by cratesync service install/);
    expect(readFileSync(file, 'utf8')).toBe('[Service]\nExecStart=/bin/true\n');
  });

  it('refuses without a config file to run with', async () => {
    ctx = { ...ctx, configFile: join(home, 'none.json') };
    const r = await service(ctx, 'install', '--kind', 'systemd');
    expect(r.error?.message).toBe(`no config file at ${join(home, 'none.json')}: create one with cratesync init first`);
  });
});
