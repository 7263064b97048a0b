/**
 * Where a server listens, as `--listen` and the config's `serve.listen` spell
 * it: `host:port`, with an IPv6 host in brackets (`[::1]:4533`). Pure: the
 * CLI, the config schema and the service all read it the same way.
 */
import { isIP } from 'node:net';

/** The Subsonic server's port when none is configured (the one Subsonic apps suggest). */
export const DEFAULT_SERVE_PORT = 4533;

/** The Subsonic server's address when none is configured: this machine only. */
export const DEFAULT_LISTEN = `127.0.0.1:${DEFAULT_SERVE_PORT}`;

export interface ListenAddress {
  /** An IP address or a host name, without brackets. */
  host: string;
  /** 0 asks the system for a free port. */
  port: number;
}

/** What {@link listenProblem} says a good value looks like. */
const SHAPE = 'must be host:port, like 127.0.0.1:4533 or [::1]:4533';

/** A host name as DNS allows it (letters, digits, hyphens, dots). */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** listenProblem says what is wrong with `s` as a listen address, or undefined when it is good. */
export function listenProblem(s: string): string | undefined {
  const r = split(s);
  return typeof r === 'string' ? r : undefined;
}

/** parseListen reads `host:port`; throws Error with {@link listenProblem}'s words when it is not one. */
export function parseListen(s: string): ListenAddress {
  const r = split(s);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

function split(s: string): ListenAddress | string {
  const m = /^\[([^\]]*)\]:(\d{1,5})$/.exec(s) ?? /^([^:[\]]*):(\d{1,5})$/.exec(s);
  if (!m) return SHAPE;
  const host = m[1] ?? '';
  const port = Number(m[2]);
  if (host === '') return `${SHAPE} (the host is missing)`;
  if (port > 65535) return `port ${port} is out of range (0–65535)`;
  const bracketed = s.startsWith('[');
  if (bracketed && isIP(host) !== 6) return `${host} is not an IPv6 address`;
  if (!bracketed && isIP(host) === 0 && !HOST_NAME.test(host)) return `${JSON.stringify(host)} is not an IP address or host name`;
  return { host, port };
}

/**
 * isLoopback says whether `host` reaches this machine only: 127.0.0.0/8,
 * ::1 (also as ::ffff:127.x), and `localhost`. Any other name may resolve
 * to an address others reach, so it counts as not loopback.
 */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

/**
 * exposureWarning is what to tell a user who serves `host` over plain HTTP
 * beyond this machine: Subsonic apps send the password (`p=`) or a token
 * that proves it (`t=`, `s=`) in every request's URL, readable by anyone on
 * the path. Undefined when the address is loopback or TLS is on.
 */
export function exposureWarning(host: string, tls: boolean): string | undefined {
  if (tls || isLoopback(host)) return undefined;
  return (
    `warning: serving on ${host} without TLS: Subsonic passwords and tokens cross the network readable by anyone on it; ` +
    'give --tls-cert and --tls-key, or put an HTTPS reverse proxy in front and listen on 127.0.0.1'
  );
}

/** isWildcard says whether `host` means every address of this machine (`0.0.0.0`, `::`). */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || /^(0{0,4}:){7}0{0,4}$/.test(host);
}

/**
 * listenUrl is the URL of a server listening on `host:port`; for a wildcard
 * host, its loopback address (other machines use one of this machine's).
 */
export function listenUrl(host: string, port: number, tls: boolean): string {
  const h = isWildcard(host) ? (isIP(host) === 6 ? '[::1]' : '127.0.0.1') : isIP(host) === 6 ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${h}:${port}`;
}
