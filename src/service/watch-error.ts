/**
 * What a failure of the native watcher means for the service. @parcel/watcher
 * reports its failures as bare messages (an Error with no code), so they are
 * told apart by their text; the texts matched here are the ones its backends
 * really produce (read from its sources, 2.6):
 *
 * - Linux (inotify): a subscribe that meets the watch limit fails with
 *   "inotify_add_watch on '<dir>' failed: No space left on device", and one
 *   that meets the limit of inotify instances with "Unable to initialize
 *   inotify: Too many open files". A folder created later whose watch cannot
 *   be added is dropped without a word, and the kernel's queue overflow
 *   (IN_Q_OVERFLOW) is skipped without a word too: library-watcher.ts probes
 *   for the first, and the service's periodic scans are all there is for the
 *   second. A root that does not exist fails the subscribe with "Bad file
 *   descriptor"; a root that is a file with "Not a directory".
 * - macOS (FSEvents): lost events come as "Events were dropped by the kernel.
 *   File system must be re-scanned." (or "… by the FSEvents client …", or
 *   "Too many events. …"), alongside events; the stream goes on.
 * - Windows: "Buffer overflow. Some events may have been lost."; a root that
 *   cannot be opened: "Invalid handle". The subscription is dropped after an
 *   error, so the caller subscribes again.
 * - Node's own fs.watch, used as the probe for the watch limit, throws
 *   "ENOSPC: System limit for number of file watchers reached, watch '<dir>'".
 */

/** What a watcher failure calls for. */
export interface WatchErrorClass {
  /**
   * `limit`: a system limit on watches (Linux inotify) is reached: warn,
   * naming the setting, and let periodic scans stand in. `overflow`: events
   * were lost: rescan. `gone`: the library folder itself is not there.
   * `other`: anything else: rescan and watch again.
   */
  kind: 'limit' | 'overflow' | 'gone' | 'other';
  /** One line for people. */
  message: string;
}

const WATCHES_LIMIT =
  'the system limit on file watches (fs.inotify.max_user_watches) is reached, so new folders are not watched and periodic scans stand in; ' +
  'raise it with `sudo sysctl fs.inotify.max_user_watches=524288` (and a line in /etc/sysctl.d/ to keep it)';

const INSTANCES_LIMIT =
  'the system limit on inotify instances (fs.inotify.max_user_instances) is reached, so the library is not watched and periodic scans stand in; ' +
  'raise it with `sudo sysctl fs.inotify.max_user_instances=1024` (and a line in /etc/sysctl.d/ to keep it)';

/**
 * classifyWatchError tells what a failure of the native watcher (an error
 * from `subscribe` or from its callback) calls for. `rootGone` is whether
 * the library folder was found missing (or not a folder) when the error came:
 * the watcher's own message for that case ("Bad file descriptor" on Linux) says
 * nothing about the root, so the caller looks. Pure; never throws.
 */
export function classifyWatchError(err: unknown, rootGone = false): WatchErrorClass {
  const text = firstLine(err instanceof Error ? err.message : String(err));
  if (rootGone || /\bENOTDIR\b|Not a directory|Invalid handle/i.test(text)) return { kind: 'gone', message: 'library folder is gone' };
  if (/initiali[sz]e inotify|inotify_init|max_user_instances/i.test(text) && /Too many open files|EMFILE/i.test(text)) return { kind: 'limit', message: INSTANCES_LIMIT };
  if (/No space left on device|\bENOSPC\b|limit for number of file watchers|max_user_watches/i.test(text)) return { kind: 'limit', message: WATCHES_LIMIT };
  if (/overflow|dropped|re-?scanned|Too many events|events may have been lost/i.test(text)) {
    return { kind: 'overflow', message: `the file watcher lost events (${text}); rescanning the library` };
  }
  return { kind: 'other', message: `the file watcher failed: ${text}` };
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
