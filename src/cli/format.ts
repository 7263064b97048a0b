/** Formatting numbers for people: sizes, rates, durations. */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** formatBytes gives 1,000-based sizes with three significant digits: "8.39 MB". */
export function formatBytes(n: number): string {
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1000 && u < UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  const s = u === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${n < 0 ? '-' : ''}${s} ${UNITS[u]}`;
}

/** formatDuration gives "0.42s", "12.3s" or "4:05" (m:ss) or "1:02:03". */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** formatCount groups thousands: "12,345" (without Intl, whose first use costs ~10 ms). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * printable escapes control characters (tabs and newlines included), line
 * separators and bidirectional overrides as `\xNN` or `\u{NNNN}`: keys and
 * tags come from a shared bucket, and one must not add lines to the listing,
 * send escape sequences to the terminal, or show a name reversed.
 */
export function printable(s: string): string {
  return s.replace(/[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, (c) => {
    const n = c.codePointAt(0) ?? 0;
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/**
 * formatAgo says how long before `now` the ISO time `iso` was: "just now",
 * "3 min ago", "5 h ago", "12 days ago"; a future time reads "in the future"
 * (another machine's clock), an unreadable one is given as it is.
 */
export function formatAgo(iso: string, now: number = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  const s = Math.round((now - t) / 1000);
  if (s < -60) return 'in the future';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  const days = Math.floor(s / 86_400);
  return days === 1 ? '1 day ago' : `${formatCount(days)} days ago`;
}
