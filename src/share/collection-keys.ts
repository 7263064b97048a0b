/**
 * Where collections live on a remote. The current collection of each user
 * stays where DJ-Tools keeps it, `collections/<user>/rekordbox_collection`
 * (its older `xml/<user>/rekordbox.xml` is read too), so that DJ-Tools users
 * on the same bucket keep working. Every version cratesync pushes is kept,
 * gzipped, under `.cratesync/collections/<user>/<version>.xml.gz`, beside its
 * index (`<version>.index.json.gz`, see collection-index.ts): the current
 * object is never overwritten without a way back.
 *
 * Keys under these prefixes were written by anyone on the bucket: a key that
 * does not parse (bad user name, bad version) is not a collection.
 */
import type { Remote } from '../remote/remote.js';
import { META_PREFIX } from '../sync/layout.js';
import { userNameProblem } from '../config/user-name.js';

export const COLLECTIONS_PREFIX = 'collections/';
export const LEGACY_PREFIX = 'xml/';
export const VERSIONS_PREFIX = `${META_PREFIX}collections/`;

/** A version: the push's time, as trashStamp spells it (sortable, valid in keys and file names). */
const VERSION = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z$/;

/** The key DJ-Tools reads a user's current collection from. */
export function currentKey(user: string): string {
  return `${COLLECTIONS_PREFIX}${user}/rekordbox_collection`;
}

/** DJ-Tools' older place for a user's collection. */
export function legacyKey(user: string): string {
  return `${LEGACY_PREFIX}${user}/rekordbox.xml`;
}

/** The key of version `version` of `user`'s collection: gzipped, or as copied from elsewhere (`raw`). */
export function versionKey(user: string, version: string, raw = false): string {
  return `${VERSIONS_PREFIX}${user}/${version}.xml${raw ? '' : '.gz'}`;
}

export function indexKey(user: string, version: string): string {
  return `${VERSIONS_PREFIX}${user}/${version}.index.json.gz`;
}

/** True when `s`, read from a key, is a user name (config/user-name.ts has the rule). */
export function isUserName(s: string): boolean {
  return userNameProblem(s) === undefined;
}

export function isVersion(s: string): boolean {
  return VERSION.test(s);
}

/** One kept version of a user's collection. */
export interface CollectionVersion {
  user: string;
  version: string;
  /** Key of the XML (gzipped unless it ends in `.xml`). */
  key: string;
  /** Bytes stored (gzipped size for `.xml.gz`). */
  size: number;
  /** Key of its index, when there is one. */
  index?: string;
}

/**
 * listVersions lists the kept versions of every user's collection (or only
 * `user`'s), oldest first per user. Keys that do not parse are skipped.
 */
export async function listVersions(remote: Remote, user?: string, signal?: AbortSignal): Promise<CollectionVersion[]> {
  const xml = new Map<string, CollectionVersion>();
  const indexes = new Set<string>();
  for await (const o of remote.list(user ? `${VERSIONS_PREFIX}${user}/` : VERSIONS_PREFIX, signal ? { signal } : {})) {
    const m = /^([^/]+)\/([^/]+?)\.(xml\.gz|xml|index\.json\.gz)$/.exec(o.key.slice(VERSIONS_PREFIX.length));
    if (!m || !isUserName(m[1] ?? '') || !isVersion(m[2] ?? '')) continue;
    const [, u = '', version = '', ext] = m;
    if (ext === 'index.json.gz') indexes.add(`${u}/${version}`);
    else xml.set(`${u}/${version}`, { user: u, version, key: o.key, size: o.size });
  }
  const out = [...xml.entries()].map(([id, v]) => (indexes.has(id) ? { ...v, index: indexKey(v.user, v.version) } : v));
  return out.sort((a, b) => (a.user === b.user ? (a.version < b.version ? -1 : 1) : a.user < b.user ? -1 : 1));
}

/** Users with a current collection (cratesync's or DJ-Tools' key, or its older one). */
export async function collectionUsers(remote: Remote, signal?: AbortSignal): Promise<Map<string, { key: string; size: number; mtime?: Date }>> {
  const users = new Map<string, { key: string; size: number; mtime?: Date }>();
  for (const prefix of [LEGACY_PREFIX, COLLECTIONS_PREFIX]) {
    for await (const o of remote.list(prefix, signal ? { signal } : {})) {
      const user = o.key.slice(prefix.length).split('/')[0] ?? '';
      if (!isUserName(user)) continue;
      const wanted = prefix === COLLECTIONS_PREFIX ? currentKey(user) : legacyKey(user);
      if (o.key === wanted) users.set(user, { key: o.key, size: o.size, ...(o.mtime ? { mtime: o.mtime } : {}) });
    }
  }
  return users;
}
