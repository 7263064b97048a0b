/** Durations as the config file spells them: `500ms`, `1s`, `5m`, `1h`, `1.5h`. */

export const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** parseDuration turns `5m` into 300000; undefined for anything not spelled as {@link DURATION}. */
export function parseDuration(s: string): number | undefined {
  const m = DURATION.exec(s.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number));
}

/** formatDuration spells `ms` as the config file does, in the largest unit that holds it whole (`300000` → `5m`). */
export function formatDuration(ms: number): string {
  for (const [unit, n] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (ms > 0 && ms % n === 0) return `${ms / n}${unit}`;
  return `${ms}ms`;
}
