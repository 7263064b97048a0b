/**
 * One run at a time per library: a lock file beside the library's state
 * database, created exclusively and holding the owner's pid. A lock left by a
 * run that died (kill -9, power loss) is taken over, since its pid is gone.
 * While it is held, whatever a run left behind in the library (partial
 * downloads) belongs to no one and can be cleared.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BusyError, CratesyncError } from '../errors.js';

/**
 * The locks this process holds. A lock file with this process's pid that is
 * not among them was left by an earlier process that had the same pid (a
 * container restarted); one that is among them belongs to another session of
 * this process (the service), and is refused like any live owner's.
 */
const held = new Set<string>();

/** acquireRunLock takes the lock at `file` or throws CratesyncError naming the run that holds it; returns the release. */
export function acquireRunLock(file: string, what: string): () => void {
  return acquirePidLock(file, (pid) => `another cratesync run (pid ${pid}) is working on ${what}; wait for it to end (if none is running, delete ${file})`);
}

/**
 * acquirePidLock takes the pid lock at `file` (taking over one whose owner
 * died) or throws CratesyncError with `refusal(pid)` of the live owner;
 * returns the release. The pid may also have been reused by another program
 * after a crash: a refusal should say how to clear the lock.
 */
export function acquirePidLock(file: string, refusal: (pid: number) => string): () => void {
  const key = resolve(file);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      held.add(key);
      return () => {
        held.delete(key);
        rmSync(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new CratesyncError(`${file}: cannot take the lock: ${(err as Error).message}`, { cause: err });
      const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
      if (Number.isInteger(pid) && pid > 0 && (pid === process.pid ? held.has(key) : pidAlive(pid))) throw new BusyError(refusal(pid));
      rmSync(file, { force: true }); // its owner is gone
    }
  }
  throw new CratesyncError(`cannot take the lock ${file}`);
}

/** pidAlive says whether a process with `pid` exists (one of another user counts). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
