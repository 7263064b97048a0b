import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appPaths, stateDbFile } from '../config/paths.js';
import { acquireRunLock } from '../state/run-lock.js';
import { withLookSession } from './session.js';
import type { Context } from './context.js';

describe('withLookSession', () => {
  it('writes when the library is free, and only reads while another run holds it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'cs-look-'));
    const library = join(home, 'lib');
    await mkdir(library);
    const paths = appPaths({ CRATESYNC_HOME: home });
    const ctx: Context = { global: {}, paths, configFile: paths.configFile, config: { library, remote: join(home, 'remote') } };
    await mkdir(join(home, 'remote'));
    const mode = () => withLookSession(ctx, {}, async ({ session }) => session.readOnly);
    expect(await mode()).toBe(false);
    await mkdir(join(home, 'data', 'state'), { recursive: true });
    const release = acquireRunLock(`${stateDbFile(paths, library)}.lock`, library);
    try {
      expect(await mode()).toBe(true);
    } finally {
      release();
    }
    expect(await mode()).toBe(false);
  });
});
