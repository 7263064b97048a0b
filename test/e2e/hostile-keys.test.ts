/**
 * What another crew member puts in the shared remote is untrusted: keys whose
 * path a library walk would never produce (the trash folder, hidden folders)
 * are skipped and reported, never downloaded over local files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeLibrary } from '../fixtures/audio.js';
import { makeMp3 } from '../fixtures/mp3.js';
import { cliJson } from '../support/cli.js';

const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-${name}-`));
const put = async (file: string, data: Buffer) => {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, data);
};

describe('keys planted under hidden folders', () => {
  const dirs: string[] = [];
  let remote: string;
  let lib: string;
  let home: string;
  beforeAll(async () => {
    const source = await tmp('src');
    remote = await tmp('remote');
    lib = await tmp('lib');
    home = await tmp('home');
    dirs.push(source, remote, lib, home);
    await makeLibrary(source, { albums: 1, tracksPerAlbum: 2 });
    const first = await cliJson({ home: await tmp('home') }, 'push', source, remote);
    expect(first.code, first.stderr).toBe(0);
  });
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('are not pulled over the local trash, and are reported once per folder', async () => {
    const batch = '2026-01-01T00-00-00.000Z';
    const mine = makeMp3({ title: 'only trashed copy', seed: 1 });
    await put(join(lib, '.cratesync-trash', batch, 'A', 't.mp3'), mine);
    for (const name of ['t.mp3', 'u.mp3']) await put(join(remote, 'music', '.cratesync-trash', batch, 'A', name), makeMp3({ title: 'planted', seed: 2 }));
    await put(join(remote, 'music', 'A', '.hidden', 'x.mp3'), makeMp3({ title: 'planted', seed: 3 }));

    for (let run = 0; run < 2; run++) {
      const r = await cliJson({ home }, 'pull', lib, remote);
      // Reported problems make the exit code 1 (see the README's exit codes); nothing failed.
      expect(r.code, r.stderr).toBe(1);
      expect(r.json.summary.failed).toBe(0);
      expect(r.json.actions.filter((a: any) => /\.cratesync-trash|\.hidden/.test(a.path))).toEqual([]);
      const skipped = r.json.problems.filter((p: any) => /skipped/.test(p.message));
      expect(skipped.map((p: any) => p.path).sort()).toEqual(['.cratesync-trash/', 'A/.hidden/']);
    }
    expect(await readFile(join(lib, '.cratesync-trash', batch, 'A', 't.mp3'))).toEqual(mine);
    expect(existsSync(join(lib, '.cratesync-trash', batch, 'A', 'u.mp3'))).toBe(false);
    expect(existsSync(join(lib, 'A', '.hidden'))).toBe(false);
  });
});
