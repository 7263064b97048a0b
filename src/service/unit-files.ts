/**
 * What `cratesync service install` writes so that the OS runs the service at
 * login and restarts it when it fails: a systemd user unit (Linux) or a
 * launchd agent (macOS), both running `node bin/cratesync.js --config <file>
 * service run`. Neither holds a secret: credentials stay where cratesync
 * reads them anyway (the AWS profile or the config file).
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

export type UnitKind = 'systemd' | 'launchd';

/** The first line of every file cratesync writes; uninstall removes only files that carry it. */
export const UNIT_MARKER = 'Written by cratesync service install';

/** What the unit runs. */
export interface UnitSpec {
  /** Absolute path of the node binary. */
  node: string;
  /** Absolute path of bin/cratesync.js. */
  bin: string;
  /** Absolute config file. */
  configFile: string;
  /** The service folder's name: the unit's own name is made from it. */
  name: string;
  /** Environment the service needs to find the same files as the CLI (CRATESYNC_HOME); never credentials. */
  env?: Record<string, string>;
}

/** Where a unit of `kind` lives, the name the service manager knows it by, and the commands to enable and disable it. */
export interface UnitPlace {
  file: string;
  unit: string;
  enable: string;
  disable: string;
}

/** unitPlace locates the unit of service folder `name` for `kind`, from the user's HOME / XDG_CONFIG_HOME. */
export function unitPlace(kind: UnitKind, name: string, env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): UnitPlace {
  const safe = name.replace(/[^A-Za-z0-9_.-]+/g, '_');
  const home = env.HOME || homedir();
  if (kind === 'systemd') {
    const unit = `cratesync-${safe}.service`;
    const file = join(env.XDG_CONFIG_HOME || join(home, '.config'), 'systemd', 'user', unit);
    return { file, unit, enable: `systemctl --user daemon-reload && systemctl --user enable --now ${unit}`, disable: `systemctl --user disable --now ${unit}` };
  }
  const unit = `org.cratesync.${safe}`;
  const file = join(home, 'Library', 'LaunchAgents', `${unit}.plist`);
  return { file, unit, enable: `launchctl bootstrap gui/${uid} ${shellQuote(file)}`, disable: `launchctl bootout gui/${uid} ${shellQuote(file)}` };
}

/** argv of the service: node, the CLI, the config, `service run`. */
function argv(spec: UnitSpec): string[] {
  return [spec.node, spec.bin, '--config', spec.configFile, 'service', 'run'];
}

/** Rejects a value no unit file can carry; UsageError names it. */
function checkPrintable(what: string, value: string): void {
  if (/[\p{Cc}]/u.test(value)) throw new UsageError(`${what} ${JSON.stringify(value)} holds control characters; a service unit cannot run it`);
}

/**
 * systemdUnit is the text of a systemd user unit for `spec`. Arguments are
 * quoted with systemd's rules (C escapes in double quotes, `%%` for a percent
 * sign, `$$` for a dollar sign). Throws UsageError for a value it cannot
 * carry: control characters anywhere, a quote or backslash in node's path.
 */
export function systemdUnit(spec: UnitSpec): string {
  const [exe, ...args] = argv(spec);
  for (const a of argv(spec)) checkPrintable('path', a);
  // systemd takes the executable's path mostly literally: no $ expansion, and no quote or backslash at all.
  if (/["\\]/.test(exe ?? '')) throw new UsageError(`node's path ${JSON.stringify(exe)} holds a quote or backslash, which systemd refuses in an executable's path`);
  const execStart = [`"${(exe ?? '').replace(/%/g, '%%')}"`, ...args.map(systemdArg)].join(' ');
  const env = Object.entries(spec.env ?? {}).map(([k, v]) => {
    checkPrintable(k, v);
    return `Environment="${escapeC(`${k}=${v}`).replace(/%/g, '%%')}"\n`;
  });
  const config = spec.configFile.replace(/%/g, '%%');
  return (
    `# ${UNIT_MARKER} for ${config}; cratesync service uninstall removes it.\n` +
    `[Unit]\n` +
    `Description=cratesync service (${config})\n` +
    `\n` +
    `[Service]\n` +
    `Type=simple\n` +
    `ExecStart=${execStart}\n` +
    env.join('') +
    `Restart=on-failure\n` +
    `RestartSec=10\n` +
    // A graceful stop lets transfers in flight finish or be abandoned; this bounds it.
    `TimeoutStopSec=30\n` +
    `\n` +
    `[Install]\n` +
    `WantedBy=default.target\n`
  );
}

function escapeC(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

function systemdArg(a: string): string {
  return `"${escapeC(a).replace(/%/g, '%%').replace(/\$/g, '$$$$')}"`;
}

/** launchdPlist is the text of a launchd agent for `spec` (label `unit`), every string XML-escaped. */
export function launchdPlist(spec: UnitSpec, unit: string): string {
  for (const a of argv(spec)) checkPrintable('path', a);
  const s = (v: string) => `<string>${xmlEscape(v)}</string>`;
  const env = Object.entries(spec.env ?? {});
  for (const [k, v] of env) checkPrintable(k, v);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n` +
    `<!-- ${UNIT_MARKER}; cratesync service uninstall removes it. -->\n` +
    `<plist version="1.0">\n<dict>\n` +
    `  <key>Label</key>\n  ${s(unit)}\n` +
    `  <key>ProgramArguments</key>\n  <array>\n${argv(spec)
      .map((a) => `    ${s(a)}\n`)
      .join('')}  </array>\n` +
    (env.length > 0 ? `  <key>EnvironmentVariables</key>\n  <dict>\n${env.map(([k, v]) => `    <key>${xmlEscape(k)}</key>\n    ${s(v)}\n`).join('')}  </dict>\n` : '') +
    `  <key>RunAtLoad</key>\n  <true/>\n` +
    `  <key>KeepAlive</key>\n  <dict>\n    <key>SuccessfulExit</key>\n    <false/>\n  </dict>\n` +
    `  <key>ProcessType</key>\n  ${s('Background')}\n` +
    `</dict>\n</plist>\n`
  );
}

/** xmlEscape makes `s` safe as XML text or attribute content. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

/** shellQuote quotes `s` for a POSIX shell when it needs it (commands printed for the user to copy). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./:=@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
