/** How numbers, sizes, times and durations read on the page. */

const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** bytes: 1536 → "1.5 KB" (powers of 1024, as the CLI shows them). */
export function bytes(n: number): string {
  let v = Math.max(0, n);
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[u]}`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** duration: 75_000 → "1 min 15 s". */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** when: a time as local date and time; `ago` for recent ones. */
export function when(at: number | undefined, now = Date.now()): string {
  if (at === undefined) return 'never';
  const d = now - at;
  if (d >= 0 && d < 60_000) return 'just now';
  if (d >= 0 && d < 3_600_000) return `${Math.floor(d / 60_000)} min ago`;
  return new Date(at).toLocaleString();
}

export function percent(done: number, total: number): number {
  return total > 0 ? Math.min(100, Math.round((done * 100) / total)) : 0;
}
