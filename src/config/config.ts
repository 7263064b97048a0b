/**
 * The config file: a JSON object in the XDG config directory (or --config).
 * It holds defaults only, never secrets: credentials come from the standard
 * AWS chain. Validation errors name the file and the offending key.
 */
import type { Config } from './config-schema.js';
import { readFile, writeFile, mkdir, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';

export type { Config };

/**
 * loadConfig reads and validates `file`. A missing file gives `{}` unless
 * `required` (an explicit --config), when it is a ConfigError.
 */
export async function loadConfig(file: string, required: boolean): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !required) return {};
    throw new ConfigError(file, '(file)', (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, '(file)', `not valid JSON: ${(err as Error).message}`);
  }
  return (await import('./config-schema.js')).validateConfig(raw, file);
}

/** saveConfig writes `config` atomically (temp file + rename), validated first. */
export async function saveConfig(file: string, config: Config): Promise<void> {
  (await import('./config-schema.js')).validateConfig(config, file);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}
