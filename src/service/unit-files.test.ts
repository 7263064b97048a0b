import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchdPlist, systemdUnit, unitPlace, type UnitSpec } from './unit-files.js';

const ANALYZE = '/usr/bin/systemd-analyze';
const weird = `a b %n $HOME & <x> "q" \\ 'z'`;

/**
 * The arguments of an ExecStart line as systemd reads them: double quotes with
 * C escapes; `%%` is a percent sign and any other `%x` a specifier; in
 * arguments `$$` is a dollar sign and `$NAME` / `${NAME}` a variable.
 * Specifiers and variables come out as «%x» and «$NAME», so that an unescaped
 * one shows.
 */
function parseExecStart(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/"((?:[^"\\]|\\.)*)"/g)) {
    const a = (m[1] ?? '').replace(/\\(.)/g, '$1').replace(/%(.)/g, (_, c: string) => (c === '%' ? '%' : `«%${c}»`));
    out.push(out.length === 0 ? a : a.replace(/\$(\$|\{\w+\}|\w+)/g, (_, v: string) => (v === '$' ? '$' : `«$${v}»`)));
  }
  return out;
}

describe('systemd unit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cs-unit-'));
  const spec: UnitSpec = {
    node: process.execPath,
    bin: join(dir, weird, 'bin', 'cratesync.js'),
    configFile: join(dir, weird, 'my config.json'),
    name: 'my_config-0123456789ab',
    env: { CRATESYNC_HOME: join(dir, 'home %h') },
  };

  it('runs `node bin --config <file> service run` with every argument intact, restarts on failure, holds no secret', () => {
    const unit = systemdUnit(spec);
    const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
    expect(parseExecStart(exec)).toEqual([spec.node, spec.bin, '--config', spec.configFile, 'service', 'run']);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^RestartSec=\d+$/m);
    expect(unit).toMatch(/^WantedBy=default.target$/m);
    expect(unit).toContain(`Environment="CRATESYNC_HOME=${join(dir, 'home %%h')}"`);
    expect(unit).not.toMatch(/AWS_|SECRET|TOKEN|PASSWORD/i);
  });

  it('passes systemd-analyze verify, with paths holding spaces, %, $, quotes, & and <', (ctx) => {
    if (!existsSync(ANALYZE)) {
      ctx.skip(`${ANALYZE} is absent (Debian's systemd package provides it)`);
      return;
    }
    mkdirSync(join(dir, weird, 'bin'), { recursive: true });
    writeFileSync(spec.bin, '');
    const file = join(dir, unitPlace('systemd', spec.name, { HOME: dir }).unit);
    writeFileSync(file, systemdUnit(spec));
    const r = spawnSync(ANALYZE, ['verify', file], { encoding: 'utf8', env: { ...process.env, SYSTEMD_LOG_LEVEL: 'warning' } });
    const mine = r.stderr.split('\n').filter((l) => l.includes('cratesync-'));
    expect(mine, r.stderr).toEqual([]);
    expect(r.status, r.stderr).toBe(0);
    // The check itself works: a broken unit is caught.
    writeFileSync(file, systemdUnit(spec).replace(/^ExecStart=.*$/m, 'ExecStart="unbalanced'));
    const bad = spawnSync(ANALYZE, ['verify', file], { encoding: 'utf8' });
    expect(bad.stderr.split('\n').filter((l) => l.includes('cratesync-')).length).toBeGreaterThan(0);
  });

  it('refuses paths a unit cannot carry, naming them', () => {
    expect(() => systemdUnit({ ...spec, configFile: '/a\nb.json' })).toThrow(/"\/a\\nb.json" holds control characters/);
    expect(() => systemdUnit({ ...spec, node: '/opt/no"de' })).toThrow(/node's path .* holds a quote or backslash/);
  });

  it('lives in $XDG_CONFIG_HOME/systemd/user, named from the service folder', () => {
    const p = unitPlace('systemd', 'my config-0123', { HOME: '/home/u', XDG_CONFIG_HOME: '/x/cfg' });
    expect(p.file).toBe('/x/cfg/systemd/user/cratesync-my_config-0123.service');
    expect(p.enable).toBe('systemctl --user daemon-reload && systemctl --user enable --now cratesync-my_config-0123.service');
    expect(unitPlace('systemd', 'c', { HOME: '/home/u' }).file).toBe('/home/u/.config/systemd/user/cratesync-c.service');
  });
});

describe('launchd agent', () => {
  const spec: UnitSpec = { node: '/usr/local/bin/node', bin: '/opt/A&B <cs>/bin/cratesync.js', configFile: '/Users/u/R&B <mix>.json', name: 'c-01', env: { CRATESYNC_HOME: '/h&<' } };

  it('XML-escapes paths holding & and <, and keeps every argument intact', () => {
    const p = unitPlace('launchd', spec.name, { HOME: '/Users/u' }, 501);
    expect(p.file).toBe('/Users/u/Library/LaunchAgents/org.cratesync.c-01.plist');
    expect(p.enable).toBe('launchctl bootstrap gui/501 /Users/u/Library/LaunchAgents/org.cratesync.c-01.plist');
    const plist = launchdPlist(spec, p.unit);
    expect(plist).toContain('<string>/opt/A&amp;B &lt;cs&gt;/bin/cratesync.js</string>');
    expect(plist).toContain('<string>/Users/u/R&amp;B &lt;mix&gt;.json</string>');
    // Outside markup, no raw & or < is left.
    const text = plist.replace(/<\/?[A-Za-z][^<>]*>|<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--[^]*?-->/g, '');
    expect(text).not.toMatch(/&(?!amp;|lt;|gt;|quot;|apos;)|</);
    const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
    const args = /<key>ProgramArguments<\/key>\s*<array>([^]*?)<\/array>/.exec(plist)?.[1] ?? '';
    expect([...args.matchAll(/<string>([^<]*)<\/string>/g)].map((m) => unescape(m[1] ?? ''))).toEqual([spec.node, spec.bin, '--config', spec.configFile, 'service', 'run']);
    expect(plist).toMatch(/<key>RunAtLoad<\/key>\s*<true\/>/);
    expect(plist).toMatch(/<key>KeepAlive<\/key>\s*<dict>\s*<key>SuccessfulExit<\/key>\s*<false\/>\s*<\/dict>/);
  });

  it('is well-formed XML when plutil or python3 can tell', () => {
    const plist = launchdPlist(spec, 'org.cratesync.c-01');
    const py = spawnSync('python3', ['-c', 'import plistlib,sys; d=plistlib.loads(sys.stdin.buffer.read()); print(d["ProgramArguments"][3])'], { input: plist, encoding: 'utf8' });
    if (py.error) return; // no python3 here: the escaping test above still holds
    expect(py.stderr).toBe('');
    expect(py.stdout.trim()).toBe(spec.configFile);
  });
});
