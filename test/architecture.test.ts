/**
 * The shape the code keeps (docs/design.md): layers that point down, SQL only
 * in state/, and no run changing the process it runs in. Read from the
 * sources as text, so a break is named by file and line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

/** Layer of each top folder of src/: a module may import only from its own layer or below. */
const LAYER: Record<string, number> = { core: 0, 'errors.ts': 0, state: 1, config: 1, library: 2, player: 2, remote: 2, sync: 3, share: 3, service: 4, subsonic: 4, cli: 5 };

function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.includes('conformance') ? [p] : [];
  });
}

const top = (file: string) => relative(SRC, file).split(/[\\/]/)[0] ?? '';

/** Lines of `file` matching `re`, as `path:line: text`. */
function grep(file: string, re: RegExp): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line, i) => (re.test(line) ? [`${relative(SRC, file)}:${i + 1}: ${line.trim()}`] : []));
}

describe('architecture', () => {
  it('every import points to the same layer or one below', () => {
    const up: string[] = [];
    for (const file of sources()) {
      const from = LAYER[top(file)];
      expect(from, `${relative(SRC, file)} is in no layer`).toBeDefined();
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
        const target = normalize(join(dirname(file), m[1] ?? ''));
        const to = LAYER[top(target)];
        if (to !== undefined && from !== undefined && to > from) up.push(`${relative(SRC, file)} imports ${relative(SRC, target)}`);
      }
    }
    expect(up).toEqual([]);
  });

  // player/ reads media players' own databases and installs its triggers
  // there; cratesync's own state is still reached only through state/.
  it('SQL runs only in state/ (and player/, on the players\' databases)', () => {
    const sql = sources()
      .filter((f) => top(f) !== 'state' && top(f) !== 'player')
      .flatMap((f) => grep(f, /\.prepare\(|\.exec\(\s*['"`]|\bcached\(|\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM)\b/));
    expect(sql).toEqual([]);
  });

  it('only the program entry sets process-wide V8 flags; no run does', () => {
    const flags = sources()
      .filter((f) => !relative(SRC, f).startsWith(join('cli', 'memory-policy')))
      .flatMap((f) => grep(f, /setFlagsFromString|runInNewContext|expose-gc/));
    expect(flags).toEqual([]);
    expect(readFileSync(join(SRC, '..', 'bin', 'cratesync.js'), 'utf8')).toMatch(/applyMemoryPolicy\(\)/);
  });
});
