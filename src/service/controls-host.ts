/**
 * What the dashboard's control routes (trash, conflicts, settings, crew)
 * need of the service beyond {@link ServiceControl}: the library session and
 * the remote it holds, its config file, and a way to change the library or
 * the remote without a run in the middle. The service implements it; the
 * routes reach it as `ServiceControl.controls`.
 */
import type { Remote } from '../remote/remote.js';
import type { LibrarySession } from '../sync/library-session.js';

export interface ControlsHost {
  /** The service's library session (its state database, file index, root and writer). */
  readonly session: LibrarySession;
  /** The service's remote. */
  readonly remote: Remote;
  readonly configFile: string;
  /**
   * exclusive runs `fn` in the service's loop, between runs: no run plans or
   * transfers while it moves files in the library or on the remote (a run
   * under way ends first; a paused service runs it at once). Resolves or
   * rejects as `fn` does; rejects with CratesyncError when the service is
   * stopping.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T>;
  /** enqueue queues library paths for the next run (as the watcher would), and wakes the loop. */
  enqueue(paths: readonly string[]): void;
  /** restored adds what a restore from the `side`'s trash put back (remote keys, or library paths) to the activity history. */
  restored(side: 'remote' | 'local', paths: readonly string[]): void;
  /** problem reports a failure in the status's lastErrors (a path, or a name in parentheses). */
  problem(path: string, message: string): void;
}
