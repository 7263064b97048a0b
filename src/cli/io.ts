/** The streams a command writes to; tests pass their own. */
import type { Out } from './progress.js';

export interface Io {
  stdout: Out;
  stderr: Out;
}

export const processIo: Io = {
  stdout: { write: (s) => void process.stdout.write(s), isTTY: process.stdout.isTTY, columns: process.stdout.columns },
  stderr: { write: (s) => void process.stderr.write(s), isTTY: process.stderr.isTTY, columns: process.stderr.columns },
};
