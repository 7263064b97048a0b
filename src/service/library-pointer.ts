/**
 * Which service holds a library: a small file beside the library's state
 * database naming the service's folder. `cratesync push` on a library finds
 * its service this way whatever config file it was given (the service holds
 * the library's run lock, so the push could not run beside it anyway).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';

const pointerFile = (stateFile: string) => `${stateFile}.service`;

/** pointService records that the service in folder `dir` holds the library of `stateFile`. */
export function pointService(stateFile: string, dir: string): void {
  writeFileSync(pointerFile(stateFile), `${JSON.stringify({ dir })}\n`, { mode: 0o600 });
}

/** servicePointedBy is the folder of the service recorded for `stateFile` (live or not), or undefined. */
export function servicePointedBy(stateFile: string): string | undefined {
  try {
    const v = JSON.parse(readFileSync(pointerFile(stateFile), 'utf8')) as { dir?: unknown };
    return typeof v.dir === 'string' ? v.dir : undefined;
  } catch {
    return undefined;
  }
}

/** unpointService removes the record, when it still names `dir`. */
export function unpointService(stateFile: string, dir: string): void {
  if (servicePointedBy(stateFile) === dir) rmSync(pointerFile(stateFile), { force: true });
}
