/**
 * The library walk, on a real tree with the awkward cases (NFD names, links,
 * a link loop, a broken link, an unreadable folder, hidden entries, a partial
 * download), on this thread and on the worker thread the CLI uses: both must
 * find exactly the same files with the same fingerprints.
 */
import { describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { foreignPathProblem } from './names.js';
import { makeFilter } from './filter.js';
import { walk as walkHere, walkBatches as batchesHere, Walked } from './walk.js';
import type { Problem } from '../core/problem.js';

// The compiled walk (`npm test` builds first): its worker script exists there.
const compiled = (await import(new URL('../../dist/src/library/walk.js', import.meta.url).href)) as typeof import('./walk.js');

async function tree(many = 300): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'cs-walk-'));
  const put = async (rel: string, body = rel) => {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), body);
  };
  await put('Artist/Album/01 One.mp3');
  await put('Artist/Album/02 Two.flac', 'longer content');
  await put('Artist/Album/cover.jpg');
  await put('Artist/Album/notes.txt'); // not music: filtered out
  await put('Cafe\u0301/Cre\u0300me.mp3'); // NFD folder and file names
  await put('.hidden/secret.mp3');
  await put('.cratesync-trash/2026-01-01T00-00-00.000Z/Artist/t.mp3'); // the trash
  await put('Artist/Album/.01 One.mp3.cratesync-0123abcd.part'); // left by an interrupted download
  await Promise.all(Array.from({ length: many }, (_, i) => put(`Many/${String(i).padStart(4, '0')}.mp3`)));
  const elsewhere = await mkdtemp(join(tmpdir(), 'cs-walk-linked-'));
  await mkdir(join(elsewhere, 'Album'));
  await writeFile(join(elsewhere, 'Album', '01 One.mp3'), 'linked');
  await symlink(elsewhere, join(root, 'Linked Artist'));
  await symlink(root, join(root, 'Artist', 'loop'));
  await symlink(join(root, 'nowhere.mp3'), join(root, 'broken.mp3'));
  await mkdir(join(root, 'Locked'));
  await put('Locked/hidden-by-mode.mp3');
  await chmod(join(root, 'Locked'), 0o000);
  return root;
}

const summary = (w: Walked) =>
  w
    .files()
    .map((f) => `${f.path} ${f.size} ${f.inode > 0} ${f.abs}`)
    .sort();

describe('walk', () => {
  it('finds the same files with the same fingerprints on this thread and on the worker', async () => {
    const root = await tree();
    const filter = makeFilter();
    const here = { problems: [] as Problem[], leftovers: [] as string[] };
    const there = { problems: [] as Problem[], leftovers: [] as string[] };
    const a = await walkHere(root, filter, here.problems, here.leftovers, { thread: false });
    const batches: Walked[] = [];
    await compiled.walkBatches(root, filter, there.problems, there.leftovers, (b) => batches.push(b));
    const b = new Walked(root);
    for (const x of batches) b.append(x);

    expect(batches.length).toBeGreaterThan(0);
    expect(summary(b)).toEqual(summary(a));
    const paths = a.paths.slice().sort();
    expect(paths).toContain('Café/Crème.mp3'.normalize('NFC'));
    expect(paths).toContain('Linked Artist/Album/01 One.mp3');
    expect(paths.filter((p) => p.startsWith('Many/'))).toHaveLength(300);
    expect(paths.some((p) => p.includes('.hidden') || p.includes('.cratesync-trash') || p.endsWith('.txt') || p.endsWith('.part'))).toBe(false);
    // The remote side is held to the same name policy: every walked path is one a remote key may map to.
    expect(paths.filter((p) => foreignPathProblem(p) !== undefined)).toEqual([]);
    // The NFD file is read under its own spelling on disk.
    const nfd = a.files().find((f) => f.path === 'Café/Crème.mp3'.normalize('NFC'));
    expect(nfd?.abs).toBe(join(root, 'Cafe\u0301', 'Cre\u0300me.mp3'));
    expect((await stat(nfd!.abs)).size).toBe(nfd!.size);
    const two = a.files().find((f) => f.path === 'Artist/Album/02 Two.flac');
    expect(two).toMatchObject({ size: 'longer content'.length, mtimeMs: (await stat(join(root, 'Artist/Album/02 Two.flac'))).mtimeMs });

    for (const r of [here, there]) {
      const messages = r.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
      expect(messages).toMatch(/broken\.mp3: broken link/);
      expect(messages).toMatch(/symbolic link loop/);
      if (process.getuid?.() !== 0) expect(messages).toMatch(/^Locked: /m); // root reads any folder
      expect(r.leftovers).toEqual([join(root, 'Artist', 'Album', '.01 One.mp3.cratesync-0123abcd.part')]);
    }
    expect(there.problems.map((p) => p.path).sort()).toEqual(here.problems.map((p) => p.path).sort());
  });

  it('hands over big libraries in several batches, and throws for a missing root', async () => {
    const root = await tree(5000);
    const sizes: number[] = [];
    await batchesHere(root, makeFilter(), [], [], (b) => sizes.push(b.length), { thread: false });
    const onWorker: number[] = [];
    await compiled.walkBatches(root, makeFilter(), [], [], (b) => onWorker.push(b.length));
    expect(onWorker.length).toBeGreaterThan(1);
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(onWorker.reduce((x, y) => x + y, 0));
    expect(sizes.reduce((x, y) => x + y, 0)).toBeGreaterThan(5000);
    await expect(compiled.walk(join(root, 'missing'), makeFilter(), [])).rejects.toThrow(/ENOENT|no such file/);
    await expect(walkHere(join(root, 'missing'), makeFilter(), [])).rejects.toThrow(/ENOENT|no such file/);
  });
});
