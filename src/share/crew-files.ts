/**
 * What matching a collection needs to know, read from a library session: the
 * remote's music as the mirror knows it (for the pusher), the reader's own
 * files (for the reader), and the pusher's files to hash.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteMirror } from '../state/remote-mirror.js';
import type { FileIndex } from '../state/file-index.js';
import type { KnownPaths, LocalMd5 } from './collection-index.js';
import type { ReaderFiles } from './collection-resolve.js';
import { hashFile } from '../library/audio-hash.js';
import { nfc } from '../library/names.js';
import { MUSIC_PREFIX, musicKey } from '../sync/layout.js';
import { findOnDisk } from './collection-resolve.js';

/**
 * knownPaths reads the mirror's music once into the lookups matching uses.
 * The lookups by name and size and by letter case are made on first use:
 * when every track lands under a root, as it usually does, they never are.
 */
export function knownPaths(mirror: RemoteMirror): KnownPaths {
  const paths = new Map<string, number>();
  for (const o of mirror.lean()) {
    if (o.key.startsWith(MUSIC_PREFIX)) paths.set(nfc(o.key.slice(MUSIC_PREFIX.length)), o.size);
  }
  let byNameSize: Map<string, string[]> | undefined;
  let folded: Map<string, string> | undefined;
  return {
    has: (p) => paths.has(p),
    byNameSize: (name, size) => {
      if (!byNameSize) {
        byNameSize = new Map();
        for (const [path, n] of paths) {
          const k = `${path.slice(path.lastIndexOf('/') + 1).toLowerCase()}\0${n}`;
          const list = byNameSize.get(k);
          if (list) list.push(path);
          else byNameSize.set(k, [path]);
        }
      }
      return byNameSize.get(`${name}\0${size}`) ?? [];
    },
    withMd5: (md5) => mirror.withMd5(md5).flatMap((o) => (o.key.startsWith(MUSIC_PREFIX) ? [nfc(o.key.slice(MUSIC_PREFIX.length))] : [])),
    folded: (p) => {
      if (!folded) {
        folded = new Map();
        for (const q of paths.keys()) if (!folded.has(q.toLowerCase())) folded.set(q.toLowerCase(), q);
      }
      return folded.get(p.toLowerCase());
    },
  };
}

/** readerFiles is the reader's library (`root`, its file index) and the bucket as its mirror knows it. */
export function readerFiles(root: string, index: FileIndex, mirror: RemoteMirror): ReaderFiles {
  const spelled = new Map<string, Map<string, string>>();
  return {
    root,
    find: (p) => findOnDisk(root, p, spelled),
    withMd5: (md5) => index.withMd5(md5).map((r) => r.path),
    objectMd5: (p) => mirror.leanOne(musicKey(p))?.md5,
    objectSize: (p) => mirror.leanOne(musicKey(p))?.size,
  };
}

/**
 * localMd5 finds, on the pusher's machine, the file an XML Location names —
 * the Location itself when this machine can open it, else the Location's
 * tail below each root (longest first) under the library root — and gives
 * its content MD5: the file index's when the file is unchanged since it was
 * hashed, else hashed now.
 */
export function localMd5(root: string, index: FileIndex): LocalMd5 {
  return async (location) => {
    const parts = nfc(location).split('/');
    const candidates: Array<{ abs: string; path?: string }> = [];
    if (process.platform === 'win32' ? /^[A-Za-z]:\//.test(location) : location.startsWith('/')) candidates.push({ abs: location });
    for (let i = 1; i < parts.length; i++) {
      const path = parts.slice(i).join('/');
      candidates.push({ abs: join(root, ...parts.slice(i)), path });
    }
    for (const c of candidates) {
      let st;
      try {
        st = statSync(c.abs);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const rec = c.path !== undefined ? index.get(c.path) : undefined;
      if (rec && rec.size === st.size && rec.mtimeMs === st.mtimeMs) return rec.md5;
      try {
        return (await hashFile(c.abs)).md5;
      } catch {
        return undefined;
      }
    }
    return undefined;
  };
}
