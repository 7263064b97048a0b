/**
 * Reading the music side of a remote into a map keyed by NFC library path,
 * and deciding each object's content MD5 without downloading it where that
 * can be done: from a plain-MD5 ETag, from the sync record of the last
 * transfer, from a multipart ETag recomputed over the local file, or (for
 * remotes without ETags) by asking the remote to hash it.
 */
import type { Remote } from '../remote/remote.js';
import type { RemoteObject } from '../core/remote-object.js';
import type { SyncedLookup } from '../state/sync-records.js';
import type { PlanRemote } from './plan.js';
import type { Problem } from '../core/problem.js';
import { parseEtag, partSizeCandidates } from '../core/etag.js';
import { hashFile } from '../library/audio-hash.js';
import { MUSIC_PREFIX } from './layout.js';
import { forEachLimit } from '../core/concurrency.js';
import type { RemoteMirror } from '../state/remote-mirror.js';
import { describe, NotFoundError } from '../errors.js';
import { nfc, SkippedPaths } from '../library/names.js';
import { fingerprint } from '../state/fingerprint.js';

export interface ListedObject extends RemoteObject {
  path: string;
  /** What the remote catalog knows (see catalog.ts), when it does. */
  md5?: string;
  audioHash?: string;
  writer?: string;
}

/**
 * foldMusic keys the objects under `music/` by NFC library path, setting each
 * one's `path` in place (no copies: at library scale they add up). When two
 * keys are one name after NFC normalisation (left by tools that do not
 * normalise), the NFC spelling wins and the other is reported. Keys whose
 * path a library walk would never produce (a hidden folder such as the
 * trash, a name this machine cannot hold: see foreignPathProblem) are left
 * out and reported in groups.
 */
export function foldMusic(objects: Iterable<RemoteObject>, problems: Problem[]): Map<string, ListedObject> {
  const out = new Map<string, ListedObject>();
  const skipped = new SkippedPaths();
  for (const o of objects) {
    if (!o.key.startsWith(MUSIC_PREFIX)) continue;
    const path = nfc(o.key.slice(MUSIC_PREFIX.length));
    if (!path || skipped.skip(path)) continue;
    const prev = out.get(path);
    const listed = Object.assign(o, { path });
    if (prev) {
      const keep = o.key === MUSIC_PREFIX + path ? listed : prev;
      const drop = keep === listed ? prev : listed;
      out.set(path, keep);
      problems.push({ path, message: `remote holds two spellings of this name (${JSON.stringify(drop.key)} is ignored)` });
      continue;
    }
    out.set(path, listed);
  }
  skipped.report(problems);
  return out;
}

export interface ResolveInput {
  remote: Remote;
  objects: ReadonlyMap<string, ListedObject>;
  synced: SyncedLookup;
  /** Local files by path with their absolute location and MD5 (when hashed). */
  local: ReadonlyMap<string, { abs: string; size: number; md5?: string }>;
  problems: Problem[];
  signal?: AbortSignal;
  /**
   * The mirror the objects came from: an object the remote says is not
   * found is dropped from it, so that the next run does not plan with (and
   * fail on) it again.
   */
  mirror?: Pick<RemoteMirror, 'dropMissing'>;
}

/**
 * resolveRemote makes every listed object a PlanRemote (in place), with its
 * MD5 where it can be had.
 */
export async function resolveRemote(input: ResolveInput): Promise<Map<string, PlanRemote>> {
  const out = new Map<string, PlanRemote>();
  const slow: ListedObject[] = [];
  for (const [path, o] of input.objects) {
    const fp = fingerprint(o);
    const entry: PlanRemote = o;
    if (fp) entry.fingerprint = fp;
    out.set(path, entry);
    const known = parseEtag(o.etag).md5 ?? o.md5;
    if (known) {
      entry.md5 = known;
      continue;
    }
    const rec = input.synced.get(path);
    if (rec && fp && rec.key === o.key && rec.etag === fp && rec.size === o.size) {
      entry.md5 = rec.md5;
      continue;
    }
    // Only worth the read when the sizes agree: otherwise they differ anyway.
    const l = input.local.get(path);
    if (l && l.size === o.size) slow.push(o);
  }
  await forEachLimit(slow, 4, async (o) => {
    const l = input.local.get(o.path);
    const entry = out.get(o.path);
    if (!l || !entry) return;
    try {
      entry.md5 = await slowMd5(input.remote, o, l);
    } catch (err) {
      if (input.mirror ? dropIfMissing(input.mirror, o.key, err) : err instanceof NotFoundError) {
        out.delete(o.path);
        input.problems.push({ path: o.path, message: `gone from the remote since the catalog or the last listing said it was there: ${describe(err)}` });
        return;
      }
      input.problems.push({ path: o.path, message: `cannot compare with the remote copy: ${describe(err)}` });
    }
  }, input.signal);
  return out;
}

/**
 * dropIfMissing drops the mirror's row for `key` when `err` is the remote's
 * "not found" for it (a catalog entry or an old listing named an object that
 * is gone), so that the next run does not plan with it again; returns
 * whether it did. For every place a planned object is read, copied or
 * downloaded.
 */
export function dropIfMissing(mirror: Pick<RemoteMirror, 'dropMissing'>, key: string, err: unknown): boolean {
  if (!(err instanceof NotFoundError)) return false;
  mirror.dropMissing(key);
  return true;
}

/**
 * slowMd5 settles an object's MD5 by reading: a multipart ETag is recomputed
 * over the local file (same MD5 if it matches, unknown if not); a remote with
 * no ETags hashes its own copy.
 */
async function slowMd5(remote: Remote, o: ListedObject, l: { abs: string }): Promise<string | undefined> {
  const { parts } = parseEtag(o.etag);
  if (parts) {
    for (const partSize of partSizeCandidates(o.size, parts)) {
      const h = await hashFile(l.abs, { partSize });
      if (h.etag === o.etag?.replace(/"/g, '').toLowerCase()) return h.md5;
    }
    return undefined;
  }
  if (remote.md5) return remote.md5(o.key);
  return undefined;
}
