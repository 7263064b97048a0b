/**
 * The generation marker: one small object, `.cratesync/generation`, that every
 * cratesync run rewrites (with fresh random content) before its first change
 * to a remote and again after its last. A machine whose mirror is complete for
 * the marker it last saw knows, from one HEAD request, that no cratesync
 * writer has changed the remote since, and can skip listing it. Changes made
 * by other tools do not touch the marker: the periodic full listing (and
 * `--full`) catches those.
 */
import { randomBytes } from 'node:crypto';
import type { Remote } from '../remote/remote.js';
import { NotFoundError } from '../errors.js';
import { META_PREFIX } from './layout.js';

export const GENERATION_KEY = `${META_PREFIX}generation`;

/** readGeneration returns the current marker's identity, or undefined when there is none. */
export async function readGeneration(remote: Remote): Promise<string | undefined> {
  try {
    const o = await remote.stat(GENERATION_KEY);
    if (o.etag) return o.etag;
    return remote.md5 ? await remote.md5(GENERATION_KEY) : undefined;
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}

/** writeGeneration replaces the marker with new content and returns its identity. */
export async function writeGeneration(remote: Remote, by: string): Promise<string> {
  const body = Buffer.from(`${JSON.stringify({ token: randomBytes(16).toString('hex'), by, at: new Date().toISOString() })}\n`);
  const r = await remote.put(GENERATION_KEY, { data: body });
  return r.etag ?? r.md5;
}
