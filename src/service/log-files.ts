/**
 * Where the service's log files are, apart from the logger itself: `service
 * logs` reads them without loading pino.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The rotated log's bounds: a file rolls over at this size, and this many old ones are kept beside the current one. */
export const LOG_FILE_SIZE = '10m';
export const LOG_FILES_KEPT = 4;

/** The log file in service folder `dir` as given to createLogger; the files on disk carry a number (see logFiles). */
export function serviceLogFile(dir: string): string {
  return join(dir, 'service.log');
}

/**
 * logFiles lists the service log's files in folder `dir`, oldest first (the
 * last is the one being written); [] when there are none or no folder.
 */
export function logFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .flatMap((n) => {
      const m = /^service\.(\d+)\.log$/.exec(n);
      return m ? [{ n: Number(m[1]), file: join(dir, n) }] : [];
    })
    .sort((a, b) => a.n - b.n)
    .map((f) => f.file);
}
