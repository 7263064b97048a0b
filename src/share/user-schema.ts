/**
 * The shape of a users-registry object (user-registry.ts), checked by hand,
 * field by field. The object is read on every push, to refresh this
 * machine's entry: loading zod for it cost a no-op push a tenth of a second.
 */
import { userNameProblem } from '../config/user-name.js';

/** What the shape depends on, given by user-registry.ts. */
export interface UserFacts {
  maxMachines: number;
  rootProblem(root: string): string | undefined;
}

/** One machine's entry in a user's object. */
export interface MachineEntry {
  /** The machine's id in its library state (state/machine.ts). */
  id: string;
  /** `windows`, `macos`, `linux`, or another `process.platform`. */
  os: string;
  /** Absolute library root, '/'-separated (see registryRoot in user-registry.ts). */
  root: string;
  /** ISO 8601 times of the first and the latest registration. */
  firstSeen: string;
  lastSeen: string;
  /** The cratesync version that registered last, when it said. */
  version?: string;
}

/** A failed check: where (`machines.0.root`) and why. */
export interface Refusal {
  path: string;
  message: string;
}

const ID = /^[A-Za-z0-9._-]{1,64}$/;
const OS = /^[a-z0-9_-]{1,32}$/;
const VERSION = /^[A-Za-z0-9.+-]{1,64}$/;
/** An ISO 8601 date and time with a zone: what toISOString writes, and offsets. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const isString = (v: unknown): v is string => typeof v === 'string';

/** checkMachine checks one machine's entry; `at` prefixes the path of a refusal. */
export function checkMachine(m: unknown, facts: UserFacts, at = ''): { value: MachineEntry } | Refusal {
  const no = (field: string, message: string): Refusal => ({ path: `${at}${field}`, message });
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return no('', 'must be an object');
  const o = m as Record<string, unknown>;
  if (!isString(o.id) || !ID.test(o.id)) return no('id', 'must be 1–64 letters, digits, dots, dashes or underscores');
  if (!isString(o.os) || !OS.test(o.os)) return no('os', 'must be a short lowercase OS name');
  if (!isString(o.root)) return no('root', 'must be a string');
  const why = facts.rootProblem(o.root);
  if (why) return no('root', why);
  for (const f of ['firstSeen', 'lastSeen'] as const) {
    const t = o[f];
    if (!isString(t) || !ISO_TIME.test(t) || Number.isNaN(Date.parse(t))) return no(f, 'must be an ISO date and time like 2026-11-30T12:00:00.000Z');
  }
  if (o.version !== undefined && (!isString(o.version) || !VERSION.test(o.version))) return no('version', 'must be a version like 1.2.3');
  const value: MachineEntry = { id: o.id, os: o.os, root: o.root, firstSeen: o.firstSeen as string, lastSeen: o.lastSeen as string };
  if (isString(o.version)) value.version = o.version;
  return { value };
}

/** checkUserObject checks a parsed user object: `{ v: 1, name, machines: [...] }` (other fields are ignored). */
export function checkUserObject(raw: unknown, facts: UserFacts): { value: { name: string; machines: MachineEntry[] } } | Refusal {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { path: '', message: 'must be an object' };
  const o = raw as Record<string, unknown>;
  if (o.v !== 1) return { path: 'v', message: 'must be 1' };
  if (!isString(o.name)) return { path: 'name', message: 'must be a string' };
  const why = userNameProblem(o.name);
  if (why) return { path: 'name', message: why };
  if (!Array.isArray(o.machines)) return { path: 'machines', message: 'must be an array' };
  if (o.machines.length > facts.maxMachines) return { path: 'machines', message: `must hold at most ${facts.maxMachines} machines` };
  const machines: MachineEntry[] = [];
  for (const [i, m] of o.machines.entries()) {
    const r = checkMachine(m, facts, `machines.${i}.`);
    if (!('value' in r)) return r;
    machines.push(r.value);
  }
  return { value: { name: o.name, machines } };
}
