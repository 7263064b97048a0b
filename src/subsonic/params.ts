/**
 * A request's parameters: the query string merged with a POSTed
 * `application/x-www-form-urlencoded` body (OpenSubsonic formPost), and the
 * helpers routes read them with. Every helper throws the protocol's errors
 * (api-error.ts), so a route states what it needs and nothing more.
 */
import { badParameter, missingParameter } from './api-error.js';
import type { Params } from './route-types.js';

/** The largest form body read: parameters are short; a bigger body is refused before it is buffered whole. */
export const MAX_FORM_BYTES = 256 * 1024;

/** paramsOf merges `query` and, when given, a form body's fields: query values first, then the body's. */
export function paramsOf(query: URLSearchParams, form?: URLSearchParams): Params {
  const merged = new URLSearchParams(query);
  if (form) for (const [k, v] of form) merged.append(k, v);
  return {
    get: (name) => merged.get(name) ?? undefined,
    all: (name) => merged.getAll(name),
  };
}

/** required returns the first non-empty value of `name`; throws missingParameter (10) when there is none. */
export function required(p: Params, name: string): string {
  const v = p.get(name);
  if (v === undefined || v === '') throw missingParameter(name);
  return v;
}

export interface IntOptions {
  min?: number;
  max?: number;
  /** The value when `name` is absent or empty; without it, absence is missingParameter. */
  default?: number;
}

/**
 * int reads `name` as a decimal integer. Absent: the default, else
 * missingParameter. Not an integer: badParameter. Outside min..max: clamped
 * (clients ask for `size=1000`; the spec's servers cap rather than refuse).
 */
export function int(p: Params, name: string, o: IntOptions = {}): number {
  const raw = p.get(name);
  if (raw === undefined || raw === '') {
    if (o.default !== undefined) return o.default;
    throw missingParameter(name);
  }
  if (!/^-?\d{1,15}$/.test(raw.trim())) throw badParameter(name, 'is not an integer');
  let n = Number(raw.trim());
  if (o.min !== undefined && n < o.min) n = o.min;
  if (o.max !== undefined && n > o.max) n = o.max;
  return n;
}

/** optionalInt reads `name` as int() does, but is undefined when it is absent or empty. */
export function optionalInt(p: Params, name: string, o: Omit<IntOptions, 'default'> = {}): number | undefined {
  const raw = p.get(name);
  return raw === undefined || raw === '' ? undefined : int(p, name, o);
}

/** bool reads `name`: true for `true`/`1`, false for `false`/`0`, undefined when absent; anything else is badParameter. */
export function bool(p: Params, name: string): boolean | undefined {
  const raw = p.get(name);
  if (raw === undefined || raw === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badParameter(name, 'is not a boolean');
}

/** ids returns every non-empty value of `name` (`id=a&id=b`), in order, without repeats; [] when absent. */
export function ids(p: Params, name: string): string[] {
  return [...new Set(p.all(name).filter((v) => v !== ''))];
}
