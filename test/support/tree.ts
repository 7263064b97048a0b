/** Reading a folder tree for comparisons: relative path → content hash. */
import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, relative, sep } from 'node:path';

/** treeHashes maps every file under `root` (skipping names starting with '.' unless `all`) to its MD5. */
export async function treeHashes(root: string, options: { all?: boolean } = {}): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function visit(dir: string) {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (!options.all && e.name.startsWith('.')) continue;
      const abs = join(dir, e.name);
      if (e.isDirectory()) await visit(abs);
      else if (e.isFile()) out.set(relative(root, abs).split(sep).join('/').normalize('NFC'), createHash('md5').update(await readFile(abs)).digest('hex'));
    }
  }
  await visit(root);
  return out;
}
