/**
 * Editing a few settings of the config file in place (the dashboard's
 * settings page): the file is read as JSON, the settings changed on that very
 * object (every other key, and the order of all keys, kept), the whole
 * checked with the config file's own schema, and written atomically (a
 * temporary file renamed over it) with the file's indentation, its
 * permissions and its final newline. A setting that fails the schema writes
 * nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';

/** The settings the dashboard shows and changes, as the config file holds them (absent: not set). */
export interface EditableSettings {
  include?: string[];
  exclude?: string[];
  transfers?: number;
  /** `service.mode`. */
  mode?: 'push' | 'sync';
  /** `service.pullInterval`, a duration like `5m`. */
  pullInterval?: string;
}

/** The settings' names, and where each lives in the file. */
export const EDITABLE: Readonly<Record<keyof EditableSettings, readonly string[]>> = {
  include: ['include'],
  exclude: ['exclude'],
  transfers: ['transfers'],
  mode: ['service', 'mode'],
  pullInterval: ['service', 'pullInterval'],
};

type Json = Record<string, unknown>;

/** The file's text and its parsed object ({} and undefined for a file not there). */
async function readRaw(file: string): Promise<{ text: string | undefined; raw: Json }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: undefined, raw: {} };
    throw new ConfigError(file, '(file)', (err as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '(file)', `not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError(file, '(file)', 'must be a JSON object');
  return { text, raw: raw as Json };
}

function pick(c: { include?: string[]; exclude?: string[]; transfers?: number; service?: { mode?: 'push' | 'sync'; pullInterval?: string } }): EditableSettings {
  return {
    ...(c.include ? { include: c.include } : {}),
    ...(c.exclude ? { exclude: c.exclude } : {}),
    ...(c.transfers !== undefined ? { transfers: c.transfers } : {}),
    ...(c.service?.mode ? { mode: c.service.mode } : {}),
    ...(c.service?.pullInterval ? { pullInterval: c.service.pullInterval } : {}),
  };
}

/** readSettings reads the editable settings of config file `file`; ConfigError when it is invalid. */
export async function readSettings(file: string): Promise<EditableSettings> {
  const { raw } = await readRaw(file);
  return pick((await import('./config-schema.js')).validateConfig(raw, file));
}

/** What writeSettings did: the settings now, and the file's text before (undefined: there was none) to put back. */
export interface WrittenSettings {
  settings: EditableSettings;
  before: string | undefined;
}

/**
 * writeSettings sets the settings `patch` names in config file `file` (see
 * the top; a value of `null` removes the setting, the default applies
 * again). Throws ConfigError naming the first bad key (`transfers`,
 * `service.pullInterval`) and writes nothing then.
 */
export async function writeSettings(file: string, patch: { [K in keyof EditableSettings]?: unknown }): Promise<WrittenSettings> {
  const { text, raw } = await readRaw(file);
  const next: Json = structuredClone(raw);
  for (const [name, value] of Object.entries(patch)) {
    const at = EDITABLE[name as keyof EditableSettings];
    if (!at || value === undefined) continue;
    set(next, at, value);
  }
  const checked = (await import('./config-schema.js')).validateConfig(next, file);
  await writeAtomically(file, render(next, text));
  return { settings: pick(checked), before: text };
}

/** putBack writes `text` (a file's content before writeSettings) back, or removes the file when it had none. */
export async function putBack(file: string, text: string | undefined): Promise<void> {
  if (text === undefined) await rm(file, { force: true });
  else await writeAtomically(file, text);
}

/** set puts `value` at `path` in `o`, making the objects on the way; null removes the key (and an object left empty). */
function set(o: Json, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    if (value === null) delete o[head];
    else o[head] = value;
    return;
  }
  const inner = o[head];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    if (value === null) return;
    o[head] = {};
  }
  const child = o[head] as Json;
  set(child, rest, value);
  if (Object.keys(child).length === 0) delete o[head];
}

/** render writes `o` as the old text was written: its indentation (or none, on one line) and its final newline. */
function render(o: Json, old: string | undefined): string {
  if (old === undefined) return `${JSON.stringify(o, null, 2)}\n`;
  const indent = /^\{\r?\n([ \t]+)"/.exec(old)?.[1];
  const eol = old.includes('\r\n') ? '\r\n' : '\n';
  const body = indent === undefined && !/^\{\s*\}\s*$/.test(old) && !old.trimEnd().includes('\n') ? JSON.stringify(o) : JSON.stringify(o, null, indent ?? 2);
  return (eol === '\n' ? body : body.replace(/\n/g, eol)) + (/\r?\n$/.test(old) ? eol : '');
}

/** writeAtomically replaces `file` with `text` through a temporary file beside it, keeping its permissions. */
async function writeAtomically(file: string, text: string): Promise<void> {
  const mode = await stat(file).then(
    (s) => s.mode & 0o777,
    () => 0o600,
  );
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(tmp, text, { mode, flush: true });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new ConfigError(file, '(file)', `cannot be written: ${(err as Error).message}`);
  }
}
