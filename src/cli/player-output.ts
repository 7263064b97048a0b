/**
 * What the CLI says of the attached players after it took their changes in
 * (takeIntake) and publishes them: repairs, problems, and what reached the
 * remote. Shared by `attach` and by a push or sync that took the queues.
 */
import type { Context } from './context.js';
import type { Io } from './io.js';
import type { LibrarySession } from '../sync/library-session.js';
import type { Remote } from '../remote/remote.js';
import type { Intake } from '../player/player-intake.js';
import { PlayerState } from '../state/player-state.js';
import { pushPlayers, type PlayerPush } from '../sync/player-push.js';
import { ExitCode } from '../errors.js';
import { userName } from './context.js';
import { formatCount, printable } from './format.js';

/** Problems shown per player; the rest are counted (cratesync players lists them). */
const SHOWN = 20;

/** reportIntakes prints what the intakes repaired and met; resolves to Partial when they met problems. */
export function reportIntakes(io: Io, intakes: readonly Intake[]): number {
  let code: number = ExitCode.Ok;
  for (const i of intakes) {
    if (i.repaired) io.stderr.write(`${i.player}: ${printable(i.repaired)}\n`);
    for (const p of i.problems.slice(0, SHOWN)) io.stderr.write(`warning: ${printable(p.path)}: ${printable(p.message)}\n`);
    if (i.problems.length > SHOWN) io.stderr.write(`warning: ${i.player}: ${formatCount(i.problems.length - SHOWN)} more problems (cratesync players --json)\n`);
    if (i.problems.length > 0) code = ExitCode.Partial;
  }
  return code;
}

/**
 * publishPlayers reports the intakes, then publishes the players' metadata
 * and playlists to `remote` and says what it did (one line). Resolves to
 * the exit code its part of the work deserves.
 */
export async function publishPlayers(ctx: Context, io: Io, signal: AbortSignal, session: LibrarySession, remote: Remote, intakes: readonly Intake[], what = 'players'): Promise<number> {
  const code = reportIntakes(io, intakes);
  const pushed = await pushPlayers(session, remote, userName(ctx), signal);
  const state = new PlayerState(session.db);
  const now = Date.now();
  for (const p of state.list()) state.update(p.name, { lastSync: now });
  if (!ctx.global.json) io.stdout.write(`${what}: ${pushLine(pushed)}\n`);
  for (const p of pushed.problems) io.stderr.write(`warning: ${printable(p.path)}: ${printable(p.message)}\n`);
  return pushed.problems.length > 0 ? ExitCode.Partial : code;
}

/** pushLine says what publishing the players' metadata and playlists did. */
export function pushLine(p: PlayerPush): string {
  const parts = [`metadata of ${formatCount(p.meta)} ${p.meta === 1 ? 'song' : 'songs'} published`];
  const missing = p.missing ? `${formatCount(p.missing)} not in the library (the player lists files that are gone)` : '';
  const waiting = p.waiting - p.missing ? `${formatCount(p.waiting - p.missing)} waiting for their files to be sent` : '';
  parts.push(...[missing, waiting].filter(Boolean));
  parts.push(`${formatCount(p.playlistsPut)} ${p.playlistsPut === 1 ? 'playlist' : 'playlists'} uploaded`);
  if (p.playlistsRemoved) parts.push(`${formatCount(p.playlistsRemoved)} moved to trash`);
  return parts.join(', ');
}
