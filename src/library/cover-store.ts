/**
 * The local cover store: a folder of embedded pictures by content name
 * (core/cover-name.ts), filled when files are hashed and read by the
 * Subsonic server and the cover upload. Being content-addressed, a name is
 * written once and never changes; libraries of one machine may share it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isCoverName } from '../core/cover-name.js';

/**
 * storeCover writes `data` as `<dir>/<name>` unless it is there already, by
 * way of a temporary file renamed into place, so that a reader never sees a
 * part of it. Throws for a malformed name and when the folder cannot be
 * written.
 */
export async function storeCover(dir: string, name: string, data: Uint8Array): Promise<void> {
  if (!isCoverName(name)) throw new Error(`not a cover name: ${JSON.stringify(name)}`);
  const dest = join(dir, name);
  if (existsSync(dest)) return;
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${name}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, dest);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** readCover gives the bytes of cover `name` in the store at `dir`, or undefined when it is not there (or not a cover name). */
export async function readCover(dir: string, name: string): Promise<Buffer | undefined> {
  if (!isCoverName(name)) return undefined;
  try {
    return await readFile(join(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
