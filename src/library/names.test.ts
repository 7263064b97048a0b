import { describe, expect, it } from 'vitest';
import { foreignPathProblem, SkippedPaths, skippedName } from './names.js';
import type { Problem } from '../core/problem.js';

describe('the name policy of both sides', () => {
  it('rules out hidden names, the trash folder and download leftovers, whatever the component', () => {
    expect(skippedName('.cratesync-trash')).toMatch(/trash/);
    expect(skippedName('.t.mp3.cratesync-0123abcd.part')).toMatch(/partial download/);
    expect(skippedName('.git')).toMatch(/hidden/);
    expect(skippedName('Artist')).toBeUndefined();
    expect(foreignPathProblem('.cratesync-trash/2026-01-01T00-00-00.000Z/A/t.mp3')?.where).toBe('.cratesync-trash/');
    expect(foreignPathProblem('A/.hidden/t.mp3')?.where).toBe('A/.hidden/');
    expect(foreignPathProblem('A/._t.mp3')?.where).toBe('A/._t.mp3');
    expect(foreignPathProblem('A/.t.mp3.cratesync-0a.part')?.reason).toMatch(/partial download/);
    expect(foreignPathProblem('A/t.mp3')).toBeUndefined();
    expect(foreignPathProblem('A/B.C/t.mp3')).toBeUndefined();
  });

  it('rules out names this file system cannot hold', () => {
    expect(foreignPathProblem('A//t.mp3')?.reason).toMatch(/cannot store/);
    expect(foreignPathProblem('A/../t.mp3')?.where).toBe('A/../');
    expect(foreignPathProblem(`A/${'x'.repeat(300)}.mp3`)?.reason).toMatch(/255 bytes/);
    expect(foreignPathProblem('A/a:b.mp3', 'win32')?.reason).toMatch(/Windows/);
    expect(foreignPathProblem('A/a:b.mp3', 'linux')).toBeUndefined();
  });

  it('reports thousands of skipped keys as a few lines', () => {
    const skipped = new SkippedPaths();
    for (let i = 0; i < 5000; i++) expect(skipped.skip(`.cratesync-trash/batch/A/t${i}.mp3`)).toBe(true);
    for (let i = 0; i < 3000; i++) skipped.skip(`A${i}/.t.mp3.cratesync-0${i % 10}.part`);
    for (let i = 0; i < 3000; i++) expect(skipped.skip(`A${i}/._t.mp3`)).toBe(true);
    for (let i = 0; i < 100; i++) skipped.skip(`A${i}/.AppleDouble/t.mp3`);
    expect(skipped.skip('A/t.mp3')).toBe(false);
    const problems: Problem[] = [];
    skipped.report(problems);
    expect(problems.length).toBeLessThanOrEqual(21);
    expect(problems[0]).toEqual({ path: '.cratesync-trash/', message: 'remote objects under this folder are skipped (5000 objects): the trash folder, which is never synced' });
    expect(problems[1]).toEqual({ path: 'A0/.t.mp3.cratesync-00.part', message: 'remote object skipped, and 2999 more like it: a partial download' });
    expect(problems.at(-1)).toEqual({ path: '(remote)', message: '82 more remote objects skipped: names a library never holds' });
  });
});
