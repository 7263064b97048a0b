/**
 * What follows a CLI pull or sync that ran (not a dry run, not one the
 * service ran): the playlists other machines published are written into the
 * library (share/playlist-pull.ts), after the files they name were pulled.
 */
import type { Io } from './io.js';
import type { Remote } from '../remote/remote.js';
import type { LibrarySession } from '../sync/library-session.js';
import type { SyncResult } from '../sync/engine.js';
import type { Problem } from '../core/problem.js';
import { pullPlaylists } from '../share/playlist-pull.js';
import { formatCount, printable } from './format.js';

/**
 * afterPull pulls the remote's playlists into the library. Its problems join
 * the run's (`result.problems`: warnings, and a partial exit) and are shown
 * on stderr unless `json` (where the result lists them); a line says what
 * changed, when anything did.
 */
export async function afterPull(io: Io, session: LibrarySession, remote: Remote, result: SyncResult, json: boolean, signal: AbortSignal): Promise<void> {
  const problems: Problem[] = [];
  const ctx = { remote, catalog: session.forRemote(remote).catalog, db: session.db, root: session.root, self: session.writer };
  const n = await pullPlaylists(ctx, problems, signal);
  result.problems.push(...problems);
  if (json) return;
  for (const p of problems) io.stderr.write(`${printable(p.path)}: ${printable(p.message)}\n`);
  if (n.written + n.removed > 0) {
    io.stderr.write(`playlists: ${formatCount(n.written)} written, ${formatCount(n.removed)} removed (to the trash), ${formatCount(n.unchanged)} unchanged\n`);
  }
}
