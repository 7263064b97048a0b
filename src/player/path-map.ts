/**
 * Turning a path as a player stored it into one this machine can open. A
 * player on Windows stores `C:\Music\a.mp3`; cratesync may run on that
 * machine, under WSL on it (`/mnt/c/Music/a.mp3`), or elsewhere with the
 * music mounted at another place (`--map 'C:\Music=/home/me/Music'`).
 * Adapters return the player's own form; the sync layer maps it here.
 */
import { UsageError } from '../errors.js';

/** One user mapping: a path starting with `from` starts with `to` on this machine. */
export interface PathMapping {
  from: string;
  to: string;
}

/** `C:\…` or `C:/…`: a Windows drive path. */
const DRIVE = /^([A-Za-z]):([\\/]|$)/;

/** A path in Windows form: a drive path or a UNC path (`\\server\share\…`, either slash). */
function isWindowsForm(p: string): boolean {
  return DRIVE.test(p) || /^[\\/]{2}[^\\/]/.test(p);
}

/** The path's components, empty ones dropped (`C:\a\\b\` → `C:`, `a`, `b`). */
function segments(p: string, windows: boolean): string[] {
  return p.split(windows ? /[\\/]/ : '/').filter((s) => s !== '');
}

/**
 * How many leading components of `p` the mapping's `from` covers, or
 * undefined when `from` is not a prefix of `p` on a component boundary
 * (`C:\Music` covers `C:\Music\a.mp3`, not `C:\Musical\a.mp3`). Windows
 * forms compare case-insensitively and accept either slash; POSIX paths
 * compare exactly.
 */
function covered(p: string, from: string): number | undefined {
  const windows = isWindowsForm(from);
  if (windows !== isWindowsForm(p)) return undefined;
  if (!windows && !from.startsWith('/')) return undefined;
  // UNC: both must be UNC, not one a drive path
  if (windows && DRIVE.test(from) !== DRIVE.test(p)) return undefined;
  const f = segments(from, windows);
  const s = segments(p, windows);
  if (f.length > s.length) return undefined;
  for (let i = 0; i < f.length; i++) {
    const a = f[i] as string;
    const b = s[i] as string;
    if (windows ? a.toLowerCase() !== b.toLowerCase() : a !== b) return undefined;
  }
  return f.length;
}

/** `rest` under `base`, with this OS's separator; a bare root (`/`, `C:`) keeps its separator. */
function join(base: string, rest: readonly string[], platform: NodeJS.Platform): string {
  const sep = platform === 'win32' ? '\\' : '/';
  const trimmed = base.replace(/[\\/]+$/, '');
  if (rest.length > 0) return `${trimmed}${sep}${rest.join(sep)}`;
  return trimmed === '' || /^[A-Za-z]:$/.test(trimmed) ? trimmed + sep : trimmed;
}

/**
 * mapPlayerPath returns the player's absolute path `p` as this machine
 * (`platform`) can open it, or undefined when it cannot be mapped (the
 * caller reports the song). Explicit mappings come first, the one with the
 * longest matching `from` winning; the rest of the path is joined to its
 * `to` with this OS's separator. Without one, a Windows drive path on a
 * non-Windows machine maps to WSL's `/mnt/<drive>/…`, a Windows path on
 * Windows and a POSIX path elsewhere stay as they are (Windows paths with
 * `\`); a UNC path off Windows, a POSIX path on Windows, a relative path or
 * one with a `..` component are undefined.
 */
export function mapPlayerPath(p: string, maps: readonly PathMapping[], platform: NodeJS.Platform = process.platform): string | undefined {
  const windows = isWindowsForm(p);
  if (!windows && !p.startsWith('/')) return undefined;
  const parts = segments(p, windows);
  // a player path never needs `..`; one that has it could leave the mapped folder
  if (parts.some((s) => s === '..')) return undefined;
  let best: { map: PathMapping; n: number } | undefined;
  for (const map of maps) {
    const n = covered(p, map.from);
    if (n !== undefined && (best === undefined || n > best.n)) best = { map, n };
  }
  if (best) return join(best.map.to, parts.slice(best.n), platform);
  if (platform === 'win32') {
    if (!windows) return undefined;
    if (!DRIVE.test(p)) return `\\\\${parts.join('\\')}`;
    return join(parts[0] as string, parts.slice(1), platform);
  }
  if (!windows) return p;
  const drive = DRIVE.exec(p);
  if (!drive) return undefined;
  return join(`/mnt/${(drive[1] as string).toLowerCase()}`, parts.slice(1), platform);
}

/**
 * parsePathMapping reads the value of `--map FROM=TO` (split at the first
 * `=`: Windows paths cannot hold one). Both sides must be absolute paths
 * (a drive path, a UNC path, or a POSIX path). Throws UsageError naming the
 * flag otherwise.
 */
export function parsePathMapping(text: string): PathMapping {
  const at = text.indexOf('=');
  const bad = (why: string): UsageError => new UsageError(`--map ${JSON.stringify(text)}: ${why} (expected FROM=TO, e.g. --map 'C:\\Music=/home/me/Music')`);
  if (at < 0) throw bad('no "="');
  const from = text.slice(0, at).trim();
  const to = text.slice(at + 1).trim();
  if (from === '' || to === '') throw bad(from === '' ? 'FROM is empty' : 'TO is empty');
  const absolute = (s: string): boolean => isWindowsForm(s) || s.startsWith('/');
  if (!absolute(from)) throw bad('FROM is not an absolute path');
  if (!absolute(to)) throw bad('TO is not an absolute path');
  return { from, to };
}
