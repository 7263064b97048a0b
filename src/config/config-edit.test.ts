import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { putBack, readSettings, writeSettings } from './config-edit.js';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cratesync-config-edit-'));
  file = join(dir, 'config.json');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const ORIGINAL = `{
    "library": "/music",
    "remote": "s3://b/dj",
    "exclude": ["*.tmp"],
    "service": {
        "mode": "push",
        "quiet": "2s"
    },
    "notify": { "webhook": "https://example.com/hook" }
}
`;

describe('config-edit', () => {
  it('reads the editable settings as the file has them', async () => {
    await writeFile(file, ORIGINAL);
    expect(await readSettings(file)).toEqual({ exclude: ['*.tmp'], mode: 'push' });
  });

  it('changes only the settings named, keeping every other key, their order, the indentation, the permissions and the final newline', async () => {
    await writeFile(file, ORIGINAL);
    await chmod(file, 0o640);
    const w = await writeSettings(file, { transfers: 3, mode: 'sync', pullInterval: '30s', exclude: ['*.tmp', 'Podcasts/**'] });
    expect(w.before).toBe(ORIGINAL);
    expect(w.settings).toEqual({ exclude: ['*.tmp', 'Podcasts/**'], transfers: 3, mode: 'sync', pullInterval: '30s' });
    const text = await readFile(file, 'utf8');
    const json = JSON.parse(text);
    expect(Object.keys(json)).toEqual(['library', 'remote', 'exclude', 'service', 'notify', 'transfers']);
    expect(json.service).toEqual({ mode: 'sync', quiet: '2s', pullInterval: '30s' });
    expect(json.notify).toEqual({ webhook: 'https://example.com/hook' });
    expect(text).toMatch(/^\{\n {4}"library"/);
    expect(text.endsWith('}\n')).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
    await putBack(file, w.before);
    expect(await readFile(file, 'utf8')).toBe(ORIGINAL);
  });

  it('keeps a one-line file on one line, and null takes a setting out (its default applies again)', async () => {
    await writeFile(file, '{"library":"/m","transfers":4,"service":{"mode":"sync"}}');
    await writeSettings(file, { transfers: null, mode: null });
    expect(await readFile(file, 'utf8')).toBe('{"library":"/m"}');
  });

  it('refuses a bad value with ConfigError naming the key, and writes nothing', async () => {
    await writeFile(file, ORIGINAL);
    for (const [patch, key] of [
      [{ transfers: 0 }, 'transfers'],
      [{ transfers: 'many' }, 'transfers'],
      [{ pullInterval: 'soon' }, 'service.pullInterval'],
      [{ pullInterval: '10ms' }, 'service.pullInterval'],
      [{ mode: 'mirror' }, 'service.mode'],
      [{ exclude: [''] }, 'exclude.0'],
      [{ include: 'x' }, 'include'],
    ] as const) {
      const err = await writeSettings(file, patch).catch((e: unknown) => e);
      expect(err, JSON.stringify(patch)).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).key).toBe(key);
      expect((err as Error).message).toContain(file);
    }
    expect(await readFile(file, 'utf8')).toBe(ORIGINAL);
    expect(await readdir(dir)).toEqual(['config.json']);
  });
});
