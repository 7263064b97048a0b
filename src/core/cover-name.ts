/**
 * Cover names: an embedded picture is named by its content,
 * `<sha256 hex>.<jpg|png|gif|webp>` (Tags.cover), both as an object under a
 * remote's `.cratesync/covers/` and as a file in the local cover store. A
 * name read from a catalog is untrusted: it is used as a path or key only
 * once it has this exact shape.
 */
import { createHash } from 'node:crypto';

export type CoverExt = 'jpg' | 'png' | 'gif' | 'webp';

const SHAPE = /^[0-9a-f]{64}\.(jpg|png|gif|webp)$/;

/** Where covers are kept on a remote, relative to its root. */
export const COVERS_PREFIX = '.cratesync/covers/';

/** isCoverName tells a well-formed cover name from anything else (a path, a forged value). */
export function isCoverName(name: unknown): name is string {
  return typeof name === 'string' && SHAPE.test(name);
}

/** coverExt tells an image's format by its first bytes; undefined for anything but JPEG, PNG, GIF and WebP. */
export function coverExt(data: Uint8Array): CoverExt | undefined {
  const b = Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, 12));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpg';
  if (b.length >= 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (b.length >= 6 && (b.toString('latin1', 0, 6) === 'GIF87a' || b.toString('latin1', 0, 6) === 'GIF89a')) return 'gif';
  if (b.length >= 12 && b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

/** coverName names image bytes by their content; undefined when they are no image of a kept format. */
export function coverName(data: Uint8Array): string | undefined {
  const ext = coverExt(data);
  return ext && `${createHash('sha256').update(data).digest('hex')}.${ext}`;
}

/** The MIME type of a cover name's format. */
export function coverMime(name: string): string {
  const ext = name.slice(name.lastIndexOf('.') + 1);
  return ext === 'jpg' ? 'image/jpeg' : `image/${ext}`;
}
