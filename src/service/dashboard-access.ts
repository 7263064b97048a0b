/**
 * Who may use the dashboard: one-time login links and the cookie sessions
 * they open (docs/dashboard.md, Access). Everything lives in the service's
 * memory only, so a restart ends every link and session.
 *
 * Secrets are kept as their SHA-256 digests, never in clear: a lookup by
 * digest tells a timing observer nothing about the secret, and a dump of the
 * process holds nothing that opens a session. The CSRF token is compared in
 * constant time, whatever the length of what a client sends. Nothing here
 * logs; callers must never log a secret either.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a login link may be used, from the moment it is made. */
export const LINK_TTL_MS = 10 * 60_000;
/** A session unused this long ends. */
export const SESSION_IDLE_MS = 12 * 60 * 60_000;
/** The session cookie's name (docs/dashboard.md). */
export const SESSION_COOKIE = 'cratesync_session';

/**
 * The most links and sessions held at once: the oldest go first. Only the
 * token's holder mints links, so these bound memory, not an attacker.
 */
const MAX_LINKS = 64;
const MAX_SESSIONS = 64;

/** Random bytes in each link secret, session id and CSRF token. */
const SECRET_BYTES = 32;

/** A dashboard session: what the guard needs to check a request. */
export interface DashboardSession {
  /** The per-session CSRF token, sent back in `X-CSRF-Token` on state-changing requests. */
  readonly csrf: string;
}

interface HeldSession extends DashboardSession {
  usedAt: number;
}

export interface DashboardAccessOptions {
  /** The clock, in ms since the epoch (tests inject one). */
  now?: () => number;
}

/** digest is the key a secret is held under. */
function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/**
 * secretEquals compares two secrets in constant time: both are hashed first,
 * so unequal lengths are simply unequal (timingSafeEqual would throw) and the
 * time taken says nothing about either length.
 */
export function secretEquals(given: string | undefined, held: string): boolean {
  if (given === undefined || given.length === 0 || held.length === 0) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(held).digest();
  return timingSafeEqual(a, b);
}

/**
 * DashboardAccess holds the outstanding login links and the open sessions.
 * Not safe across processes; one per control server.
 */
export class DashboardAccess {
  private readonly now: () => number;
  /** digest(secret) → when the link stops working. Insertion order is age order. */
  private readonly links = new Map<string, number>();
  /** digest(session id) → the session. Re-inserted on use, so the first is the least recently used. */
  private readonly sessions = new Map<string, HeldSession>();

  constructor(o: DashboardAccessOptions = {}) {
    this.now = o.now ?? Date.now;
  }

  /** mintLink makes a new one-time login secret (32 random bytes, base64url), valid {@link LINK_TTL_MS}. */
  mintLink(): string {
    this.prune();
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    this.links.set(digest(secret), this.now() + LINK_TTL_MS);
    while (this.links.size > MAX_LINKS) this.links.delete(this.links.keys().next().value as string);
    return secret;
  }

  /**
   * redeem uses up the link `secret` and opens a session: its id (the
   * cookie's value) and CSRF token. Undefined when the secret is unknown,
   * used or expired; a secret works once, whatever happens next.
   */
  redeem(secret: string): { id: string; session: DashboardSession } | undefined {
    this.prune();
    const key = digest(secret);
    const until = this.links.get(key);
    this.links.delete(key);
    if (until === undefined || this.now() >= until) return undefined;
    const id = randomBytes(SECRET_BYTES).toString('base64url');
    const session: HeldSession = { csrf: randomBytes(SECRET_BYTES).toString('base64url'), usedAt: this.now() };
    this.sessions.set(digest(id), session);
    while (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value as string);
    return { id, session };
  }

  /**
   * session is the open session whose id is `id` (the cookie's value), and
   * counts this as a use (the idle time starts again); undefined for none,
   * an unknown id or one idle {@link SESSION_IDLE_MS} or more.
   */
  session(id: string | undefined): DashboardSession | undefined {
    if (!id) return undefined;
    const key = digest(id);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    this.sessions.delete(key);
    const now = this.now();
    if (now - s.usedAt >= SESSION_IDLE_MS) return undefined;
    s.usedAt = now;
    this.sessions.set(key, s);
    return s;
  }

  /** end closes the session `id` (a new login from the same browser replaces it). */
  end(id: string | undefined): void {
    if (id) this.sessions.delete(digest(id));
  }

  /** Drops expired links and idle sessions, so memory holds only live ones. */
  private prune(): void {
    const now = this.now();
    for (const [k, until] of this.links) if (now >= until) this.links.delete(k);
    for (const [k, s] of this.sessions) if (now - s.usedAt >= SESSION_IDLE_MS) this.sessions.delete(k);
  }
}
