/**
 * The users registry: who shares a remote, and from which machines. One small
 * JSON object per user at `.cratesync/users/<user>.json` under the remote
 * root, written only by that user's own machines (`user register`, and every
 * push):
 *
 *   { v: 1, name, machines: [{ id, os, root, firstSeen, lastSeen, version? }] }
 *
 * `root` is the machine's library folder as its OS spells it, with '/' for
 * separators on Windows too (`C:/Users/x/Music`): what another user's
 * collection paths are rewritten from. No secrets are kept here.
 *
 * Everything read back comes from a shared bucket and is untrusted: sizes are
 * bounded before reading, every field is checked (user-schema.ts), and an object that
 * fails is skipped with a Problem naming its key, never used.
 */
import type { Remote } from '../remote/remote.js';
import type { Problem } from '../core/problem.js';
import { forEachLimit } from '../core/concurrency.js';
import { META_PREFIX } from '../sync/layout.js';
import { userNameProblem } from '../config/user-name.js';
import type { MachineEntry } from './user-schema.js';
import { checkMachine, checkUserObject } from './user-schema.js';
import { describe, NotFoundError, UsageError } from '../errors.js';

export interface UserEntry {
  name: string;
  /** Most recently seen first. */
  machines: MachineEntry[];
}

/** Where user objects live, under the remote root. */
export const USERS_PREFIX = `${META_PREFIX}users/`;
/** A user object larger than this is not read: a forged one must not cost memory. */
export const MAX_USER_OBJECT_BYTES = 64 * 1024;
/** Machines kept per user; past it the least recently seen is dropped. */
export const MAX_MACHINES = 32;
/** User objects read by one listing; more is a forged bucket, reported and not read. */
export const MAX_USERS = 1000;
const MAX_ROOT_CHARS = 4096;
/** User objects read at once. */
const READ_CONCURRENCY = 8;

/**
 * rootProblem returns why `root` cannot be a registered library root, or
 * undefined: it must be absolute ('/…', 'C:/…' or '//server/share/…'),
 * '/'-separated without `.`/`..` steps, free of control characters (NUL
 * among them), and at most 4096 characters.
 */
export function rootProblem(root: string): string | undefined {
  if (root.length === 0 || root.length > MAX_ROOT_CHARS) return `must be 1–${MAX_ROOT_CHARS} characters`;
  if (/\p{Cc}/u.test(root)) return 'must not hold control characters';
  if (!/^(\/|[A-Za-z]:\/)/.test(root)) return "must be absolute ('/…' or 'C:/…')";
  if (root.split('/').some((step) => step === '.' || step === '..')) return "must not hold '.' or '..' steps";
  return undefined;
}

/**
 * checkUserName returns `name` in NFC when it may be a user name (see
 * config/user-name.ts), else throws UsageError naming `what` (the flag or
 * setting it came from). Called before a name becomes part of a key.
 */
export function checkUserName(name: string, what = 'user name'): string {
  const nfc = name.normalize('NFC');
  const why = userNameProblem(nfc);
  if (why) throw new UsageError(`${what} ${JSON.stringify(name)}: ${why}`);
  return nfc;
}

/** userKey is the key of `name`'s object: `.cratesync/users/<name>.json`. Throws UsageError for a bad name. */
export function userKey(name: string): string {
  return `${USERS_PREFIX}${checkUserName(name)}.json`;
}

/** osName is the registry's name of a platform: windows, macos, linux, else the platform as Node names it. */
export function osName(platform: string = process.platform): string {
  return platform === 'win32' ? 'windows' : platform === 'darwin' ? 'macos' : platform;
}

/**
 * registryRoot spells an absolute library root as the registry keeps it: on
 * Windows with '/' for '\' and an upper-case drive letter (`C:\x` → `C:/x`);
 * elsewhere unchanged. A trailing separator is dropped, except the root's own.
 */
export function registryRoot(root: string, platform: string = process.platform): string {
  let r = platform === 'win32' ? root.replace(/\\/g, '/').replace(/^([a-z]):/, (_, d: string) => `${d.toUpperCase()}:`) : root;
  while (r.length > 1 && r.endsWith('/') && !/^[A-Za-z]:\/$/.test(r)) r = r.slice(0, -1);
  return r;
}

/** thisMachine is what a library session registers: its machine id, this OS, its root. */
export function thisMachine(session: { machine: string; root: string }, version?: string): { id: string; os: string; root: string; version?: string } {
  return { id: session.machine, os: osName(), root: registryRoot(session.root), ...(version ? { version } : {}) };
}

/** nameOfKey is the user a key under USERS_PREFIX names, or undefined when it is no user object's key. */
function nameOfKey(key: string): string | undefined {
  if (!key.startsWith(USERS_PREFIX) || !key.endsWith('.json')) return undefined;
  const name = key.slice(USERS_PREFIX.length, -'.json'.length);
  return userNameProblem(name) ? undefined : name;
}

/** parseUser checks one object's bytes; returns the entry or a Problem's message. */
/** What user-schema.ts checks against. */
const FACTS = { maxMachines: MAX_MACHINES, rootProblem: (root: string) => rootProblem(root) };

function parseUser(key: string, name: string, buf: Buffer): UserEntry | string {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    return 'not a user object: not valid JSON';
  }
  const r = checkUserObject(raw, FACTS);
  if (!('value' in r)) return `not a user object: ${r.path ? `${r.path}: ` : ''}${r.message}`;
  if (r.value.name !== name) return `not a user object: its name ${JSON.stringify(r.value.name)} is not the one its key names (${key})`;
  return { name: r.value.name, machines: sortMachines(r.value.machines) };
}

/** Most recently seen first; ties by id, so the order is stable. */
function sortMachines(ms: MachineEntry[]): MachineEntry[] {
  return ms.sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const tooBig = (size: number) => `not a user object: ${size} bytes, over the limit of ${MAX_USER_OBJECT_BYTES}`;

/**
 * readRegistry reads every user object (one listing, then the objects, a few
 * at once) and returns the users sorted by name. An object that is not a
 * user's (bad key, too big, not JSON, fails the schema, a name its key does
 * not hold) is skipped with a Problem naming its key. Rejects only when the
 * remote cannot be listed (its errors as Remote documents them).
 */
export async function readRegistry(remote: Remote, problems: Problem[], signal?: AbortSignal): Promise<UserEntry[]> {
  const wanted: Array<{ key: string; name: string }> = [];
  let over = 0;
  for await (const o of remote.list(USERS_PREFIX, signal ? { signal } : {})) {
    const name = nameOfKey(o.key);
    if (name === undefined) problems.push({ path: o.key, message: 'not a user object: its name is no user name (.cratesync/users/<user>.json)' });
    else if (o.size > MAX_USER_OBJECT_BYTES) problems.push({ path: o.key, message: tooBig(o.size) });
    else if (wanted.length >= MAX_USERS) over++;
    else wanted.push({ key: o.key, name });
  }
  if (over > 0) problems.push({ path: USERS_PREFIX, message: `${over} more user objects than the ${MAX_USERS} read were left unread` });
  const users: UserEntry[] = [];
  await forEachLimit(
    wanted,
    READ_CONCURRENCY,
    async ({ key, name }) => {
      let buf: Buffer;
      try {
        buf = await remote.read(key, signal ? { signal } : {});
      } catch (err) {
        // Removed since the listing: no user any more.
        if (err instanceof NotFoundError) return;
        problems.push({ path: key, message: `cannot be read: ${describe(err)}` });
        return;
      }
      // The listing's size may be stale: checked again on what was read.
      const parsed = buf.length > MAX_USER_OBJECT_BYTES ? tooBig(buf.length) : parseUser(key, name, buf);
      if (typeof parsed === 'string') problems.push({ path: key, message: parsed });
      else users.push(parsed);
    },
    signal,
  );
  signal?.throwIfAborted();
  return users.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * readUser reads `name`'s object: undefined when there is none, or (with a
 * Problem naming its key) when it is too big or invalid. Throws UsageError
 * for a bad name, and the remote's errors other than NotFoundError.
 */
export async function readUser(remote: Remote, name: string, problems: Problem[]): Promise<UserEntry | undefined> {
  const key = userKey(name);
  const nfc = checkUserName(name);
  // Its size from a listing of the one key, not a HEAD: runs make no per-object requests, and a push
  // refreshes this object every time.
  let size: number | undefined;
  for await (const o of remote.list(key)) if (o.key === key) size = o.size;
  if (size === undefined) return undefined;
  if (size > MAX_USER_OBJECT_BYTES) {
    problems.push({ path: key, message: tooBig(size) });
    return undefined;
  }
  let buf: Buffer;
  try {
    buf = await remote.read(key);
  } catch (err) {
    // Removed since the listing.
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  const parsed = buf.length > MAX_USER_OBJECT_BYTES ? tooBig(buf.length) : parseUser(key, nfc, buf);
  if (typeof parsed === 'string') {
    problems.push({ path: key, message: parsed });
    return undefined;
  }
  return parsed;
}

/**
 * registerMachine adds this machine to `name`'s object, or refreshes its
 * entry (lastSeen, os, root, version; firstSeen kept), and writes the object
 * back. Other machines' entries are kept, at most MAX_MACHINES in all (the
 * least recently seen dropped). An existing object that is invalid is
 * replaced. Two machines of one user registering at the same moment may lose
 * one entry: the next push of that machine puts it back.
 *
 * Throws UsageError for a bad name or a root that cannot be registered (see
 * {@link rootProblem}), and the remote's errors.
 */
export async function registerMachine(
  remote: Remote,
  name: string,
  me: { id: string; os: string; root: string; version?: string },
  now: Date = new Date(),
): Promise<UserEntry> {
  const nfc = checkUserName(name);
  const at = now.toISOString();
  const existing = await readUser(remote, nfc, []);
  const prev = existing?.machines.find((m) => m.id === me.id);
  const entry: MachineEntry = { id: me.id, os: me.os, root: me.root, firstSeen: prev?.firstSeen ?? at, lastSeen: at, ...(me.version ? { version: me.version } : {}) };
  const checked = checkMachine(entry, FACTS);
  if (!('value' in checked)) throw new UsageError(`cannot register machine ${JSON.stringify(me.id)}: ${checked.path || 'entry'}: ${checked.message}`);
  const others = (existing?.machines ?? []).filter((m) => m.id !== me.id);
  // This machine always stays, whatever the others' clocks said.
  const machines = sortMachines([entry, ...sortMachines(others).slice(0, MAX_MACHINES - 1)]);
  const user: UserEntry = { name: nfc, machines };
  await remote.put(userKey(nfc), { data: Buffer.from(`${JSON.stringify({ v: 1, ...user }, null, 2)}\n`) });
  return user;
}
