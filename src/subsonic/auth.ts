/**
 * Who is asking: the Subsonic credentials in a request's parameters, checked
 * against the serve users. Three forms: OpenSubsonic `apiKey`; `u` + `t` +
 * `s` with t = md5(password + s); `u` + `p`, the password plain or as
 * `enc:` + hex of its UTF-8 bytes.
 *
 * Comparisons are constant-time over equal-length digests, and an unknown
 * user costs the same work as a known one (compared against a dummy), so
 * neither the answer's time nor its code tells which names exist. Repeated
 * failures are refused by the rate limiter before any password is looked at.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { SubsonicCode, SubsonicError, missingParameter } from './api-error.js';
import type { RateLimiter } from './rate-limit.js';
import type { Params, ServeUser } from './route-types.js';

/** What authentication needs of the users (state/serve-users.ts ServeUsers has it). */
export interface UserDirectory {
  password(name: string): string | undefined;
  userByApiKey(key: string): string | undefined;
}

// Compared against when the user is unknown: random, so no input matches it.
const DUMMY_PASSWORD = randomBytes(24).toString('base64');

/**
 * authenticate returns the user the request's credentials name, or throws
 * SubsonicError: 10 when credentials are missing, 43 when an apiKey comes
 * with `u` (or `p`/`t`/`s`), 44 for an unknown API key, 40 for a wrong user
 * or password and while `clientAddress` (or the user name) is refused for
 * too many failures.
 */
export function authenticate(params: Params, users: UserDirectory, limiter: RateLimiter, clientAddress: string): ServeUser {
  const apiKey = params.get('apiKey');
  const u = params.get('u');
  if (apiKey !== undefined) {
    if (u !== undefined || params.get('p') !== undefined || params.get('t') !== undefined || params.get('s') !== undefined) {
      throw new SubsonicError(SubsonicCode.conflictingAuth, 'Multiple conflicting authentication mechanisms provided');
    }
    refuseWhileLimited(limiter, clientAddress);
    const name = apiKey === '' ? undefined : users.userByApiKey(apiKey);
    if (name === undefined) {
      limiter.failure(clientAddress);
      throw new SubsonicError(SubsonicCode.invalidApiKey, 'Invalid API key');
    }
    limiter.success(clientAddress);
    return { name };
  }
  if (!u) throw missingParameter('u');
  const p = params.get('p');
  const t = params.get('t');
  const s = params.get('s');
  if (!p && !t) throw missingParameter('p');
  if (!p && !s) throw missingParameter('s');
  refuseWhileLimited(limiter, clientAddress, u);

  const known = users.password(u);
  const password = known ?? DUMMY_PASSWORD;
  const ok = p ? sameSecret(plainPassword(p), password) : sameSecret((t ?? '').toLowerCase(), md5Hex(password + (s ?? '')));
  if (!ok || known === undefined) {
    limiter.failure(clientAddress, u);
    throw new SubsonicError(SubsonicCode.wrongCredentials, 'Wrong username or password');
  }
  limiter.success(clientAddress, u);
  return { name: u };
}

function refuseWhileLimited(limiter: RateLimiter, address: string, user?: string): void {
  const ms = limiter.blockedFor(address, user);
  if (ms > 0) {
    throw new SubsonicError(SubsonicCode.wrongCredentials, `Too many failed login attempts; wait ${Math.ceil(ms / 1000)} s before trying again`);
  }
}

/** The password `p` carries: `enc:` + hex is decoded; bad hex yields a value no password equals. */
function plainPassword(p: string): string | undefined {
  if (!p.startsWith('enc:')) return p;
  const hex = p.slice(4);
  if (hex.length % 2 !== 0 || !/^[0-9a-f]*$/i.test(hex)) return undefined;
  return Buffer.from(hex, 'hex').toString('utf8');
}

function md5Hex(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

/** sameSecret compares in constant time: both sides hashed first, so lengths match and leak nothing. */
function sameSecret(given: string | undefined, expected: string): boolean {
  const a = createHash('sha256').update(given ?? '', 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b) && given !== undefined;
}
