/** The streams a command writes to; tests pass their own. */
import { once } from 'node:events';
import type { Out } from './progress.js';

export interface Io {
  stdout: Out;
  stderr: Out;
}

function out(stream: NodeJS.WriteStream): Out {
  return {
    write: (s) => void stream.write(s),
    drained: async () => {
      if (stream.writableNeedDrain) await once(stream, 'drain');
    },
    isTTY: stream.isTTY,
    columns: stream.columns,
  };
}

export const processIo: Io = { stdout: out(process.stdout), stderr: out(process.stderr) };
