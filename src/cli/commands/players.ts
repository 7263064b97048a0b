/**
 * `cratesync attach`, `detach`, `players` and `playlists`: media players
 * attached to the library (src/player/), their songs, tags, ratings and
 * playlists carried to the remote (src/sync/player-push.ts).
 */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import type { Context } from '../context.js';
import type { Io } from '../io.js';
import type { LibrarySession } from '../../sync/library-session.js';
import type { Remote } from '../../remote/remote.js';
import type { Intake } from '../../player/player-intake.js';
import type { Problem } from '../../core/problem.js';
import { stateDbFile } from '../../config/paths.js';
import { openStateDb, type Db } from '../../state/state-db.js';
import { PlayerState, type AttachedPlayer } from '../../state/player-state.js';
import { PLAYER_NAMES } from '../../player/player-model.js';
import { adapterOf, defaultLibrary } from '../../player/adapters.js';
import { attachPlayer, detachPlayer } from '../../player/player-attach.js';
import { takeIntake } from '../../player/player-intake.js';
import { parsePathMapping } from '../../player/path-map.js';
import { openPlayerDb } from '../../player/player-db.js';
import { queueHealth, queueLength } from '../../player/player-queue.js';
import { publishPlayers } from '../player-output.js';
import { listPlaylists } from '../../sync/playlist-publish.js';
import { runSync } from '../../sync/engine.js';
import { makeFilter } from '../../library/filter.js';
import { parseMaxDelete } from '../../sync/delete-limit.js';
import { makeDisplay } from '../progress.js';
import { withSession, withLookSession } from '../session.js';
import { serviceOf } from '../via-service.js';
import { collect } from '../options.js';
import { libraryRoot } from '../context.js';
import { summarize } from '../../sync/run-summary.js';
import { summaryLine } from './sync-run.js';
import { describe, ExitCode } from '../../errors.js';
import { formatAgo, formatCount, printable } from '../format.js';

const REMOTE_HELP = 's3://bucket/prefix, file:///path or a folder (default: from the config, else the embedded folder remote)';

interface AttachFlags {
  db?: string;
  map?: string[];
  library?: string;
}

export function addPlayerCommands(program: Command, deps: CommandDeps): void {
  program
    .command('attach')
    .description(`attach a media player (${PLAYER_NAMES.join(', ')}): its songs, tags, ratings and playlists reach the remote`)
    .argument('<player>', PLAYER_NAMES.join(' | '))
    .argument('[remote]', REMOTE_HELP)
    .option('--db <file>', "the player's database or library file (default: where the player keeps it)")
    .option('--map <from=to>', "where a folder of the player's paths is on this machine, e.g. 'C:\\Music=/mnt/c/Music' (repeatable)", collect)
    .option('--library <dir>', 'library folder (default: from the config)')
    .action(async (name: string, remote: string | undefined, flags: AttachFlags, cmd: Command) => {
      deps.exit(await attach(await deps.ctxFor(cmd), deps.io, deps.signal, name, remote, flags));
    });
  program
    .command('detach')
    .description("remove everything cratesync added to a player's database; what was published stays on the remote")
    .argument('<player>', PLAYER_NAMES.join(' | '))
    .option('--library <dir>', 'library folder (default: from the config)')
    .action(async (name: string, flags: { library?: string }, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const r = await withStateOf(ctx, flags.library, (db) => detachPlayer(db, name));
      const label = adapterOf(name).label;
      if (!r.detached) deps.io.stderr.write(`${label} is not attached to this library\n`);
      else deps.io.stdout.write(`detached ${label}${r.databaseGone ? ' (its database is gone: only forgotten here)' : ''}\n`);
      deps.exit(r.detached ? ExitCode.Ok : ExitCode.Failed);
    });
  program
    .command('players')
    .description('the attached players: database, state, queue length, last change, problems')
    .option('--library <dir>', 'library folder (default: from the config)')
    .action(async (flags: { library?: string }, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const rows = await withStateOf(ctx, flags.library, async (db) => new PlayerState(db).list().map((p) => ({ ...p, songs: new PlayerState(db).songCount(p.name), ...live(p) })));
      if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify({ players: rows }, null, 2)}\n`);
      else deps.io.stdout.write(renderPlayers(rows));
      deps.exit(rows.some((r) => r.health === 'error' || r.health === 'missing' || r.queue === undefined) ? ExitCode.Partial : ExitCode.Ok);
    });
  program
    .command('playlists')
    .description('the playlists cratesync knows: from which player or user, and where they went')
    .argument('[remote]', REMOTE_HELP)
    .option('--library <dir>', 'library folder (default: from the config)')
    .action(async (remoteArg: string | undefined, flags: { library?: string }, cmd: Command) => {
      const ctx = await deps.ctxFor(cmd);
      const out = await withLookSession(ctx, { ...(flags.library !== undefined ? { library: flags.library } : {}), ...(remoteArg !== undefined ? { remote: remoteArg } : {}) }, async ({ session, remote }) => {
        const { catalog } = session.forRemote(remote);
        const problems: Problem[] = [];
        await catalog.refresh({ full: false, problems, readOnly: session.readOnly, signal: deps.signal });
        for (const p of problems) deps.io.stderr.write(`warning: ${printable(p.path)}: ${printable(p.message)}\n`);
        const state = new PlayerState(session.db);
        const local = state.list().flatMap((p) =>
          state.playlists(p.name).map((l) => ({ player: p.name, name: l.name, smart: l.smart, tracks: l.paths.length, remoteName: state.published(remote.url, 'playlist', `${p.name}:${l.id}`)?.name })),
        );
        return { local, remote: listPlaylists(catalog) };
      });
      if (ctx.global.json) deps.io.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      else deps.io.stdout.write(renderPlaylists(out));
      deps.exit(ExitCode.Ok);
    });
}

/** The state database of the library (no run lock: the player tables are shared safely with a run or service). */
async function withStateOf<T>(ctx: Context, library: string | undefined, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = openStateDb(stateDbFile(ctx.paths, libraryRoot(ctx, library)));
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}

async function attach(ctx: Context, io: Io, signal: AbortSignal, name: string, remoteArg: string | undefined, flags: AttachFlags): Promise<number> {
  const adapter = adapterOf(name);
  const file = flags.db ?? defaultLibrary(adapter);
  const maps = (flags.map ?? []).map((m) => parsePathMapping(m));
  const service = await serviceOf(ctx, flags.library);
  if (service) {
    // The service holds the library: it takes the player in at its next look (within a second).
    await withStateOf(ctx, flags.library, (db) => attachPlayer(db, adapter.name, file, maps));
    const st = await service.status();
    io.stdout.write(`attached ${adapter.label} (${printable(file)}); the cratesync service (pid ${st.pid}) sends its songs and playlists now (cratesync players)\n`);
    return ExitCode.Ok;
  }
  return withSession(ctx, { ...(flags.library !== undefined ? { library: flags.library } : {}), ...(remoteArg !== undefined ? { remote: remoteArg } : {}) }, async ({ session, remote }) => {
    await attachPlayer(session.db, adapter.name, file, maps);
    io.stderr.write(`attached ${adapter.label} (${printable(file)}); reading its library…\n`);
    const intakes = await takeIntake(session.db, session.root, { names: [adapter.name], whole: true });
    return syncIntakes(ctx, io, signal, session, remote, intakes, 'attach');
  });
}

/**
 * syncIntakes sends the files of what the players' intakes found (a push of
 * those paths), then publishes their metadata and playlists; prints what
 * happened.
 */
async function syncIntakes(ctx: Context, io: Io, signal: AbortSignal, session: LibrarySession, remote: Remote, intakes: readonly Intake[], what: string): Promise<number> {
  let code: number = ExitCode.Ok;
  const paths = [...new Set(intakes.flatMap((i) => i.paths))];
  if (paths.length > 0) {
    const display = makeDisplay(io.stderr, { quiet: Boolean(ctx.global.json), verbose: Boolean(ctx.global.verbose) });
    try {
      const result = await runSync(session, {
        direction: 'push',
        remote,
        filter: makeFilter({ ...(ctx.config.extensions ? { extensions: ctx.config.extensions } : {}), include: ctx.config.include ?? [], exclude: ctx.config.exclude ?? [] }),
        delete: false,
        maxDelete: parseMaxDelete(ctx.config.maxDelete),
        dryRun: false,
        transfers: ctx.config.transfers ?? 16,
        scope: paths,
        listeners: [display.listener],
        signal,
      });
      display.close();
      if (!ctx.global.json) io.stdout.write(`${what}: ${summaryLine('push', summarize('push', result))}\n`);
      if (result.exec?.fatal || (result.exec?.failed.length ?? 0) > 0) code = ExitCode.Partial;
    } finally {
      display.close();
    }
  }
  const published = await publishPlayers(ctx, io, signal, session, remote, intakes, what);
  return published !== ExitCode.Ok ? published : code;
}

/** What a live look at a player's database says: its queue, or why it could not be looked at. */
function live(p: AttachedPlayer): { queue?: number; triggers?: string } {
  const adapter = adapterOf(p.name);
  if (adapter.kind !== 'sqlite') return {};
  try {
    const db = openPlayerDb(p.dbPath, adapter);
    try {
      return { queue: queueLength(db), triggers: queueHealth(db, adapter).state };
    } finally {
      db.close();
    }
  } catch (err) {
    return { triggers: describe(err) };
  }
}

type PlayerRow = AttachedPlayer & { songs: number; queue?: number; triggers?: string };

export function renderPlayers(rows: readonly PlayerRow[], now = Date.now()): string {
  if (rows.length === 0) return 'no player attached (cratesync attach <player> attaches one)\n';
  const ago = (t?: number) => (t === undefined ? '-' : formatAgo(new Date(t).toISOString(), now));
  const table = [['PLAYER', 'STATE', 'SONGS', 'QUEUE', 'LAST CHANGE', 'LAST SYNC', 'DATABASE']];
  for (const r of rows) {
    const state = r.triggers && r.triggers !== 'attached' ? `${r.health}, triggers ${r.triggers}` : r.health;
    table.push([r.name, state, formatCount(r.songs), r.queue === undefined ? '-' : formatCount(r.queue), ago(r.lastChange), ago(r.lastSync), printable(r.dbPath)]);
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => (t[i] ?? '').length)));
  let out = table.map((t) => `${t.map((c, i) => (i === t.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`).join('');
  for (const r of rows) {
    if (r.note) out += `${r.name}: ${printable(r.note)}\n`;
    for (const p of r.problems.slice(0, 10)) out += `${r.name}: ${printable(p.path)}: ${printable(p.message)}\n`;
    if (r.problems.length > 10) out += `${r.name}: ${formatCount(r.problems.length - 10)} more problems (--json lists them all)\n`;
  }
  return out;
}

function renderPlaylists(o: { local: Array<{ player: string; name: string; smart: boolean; tracks: number; remoteName?: string | undefined }>; remote: ReturnType<typeof listPlaylists> }): string {
  let out = '';
  if (o.local.length === 0 && o.remote.length === 0) return 'no playlists known (attach a player, or pull a crew member’s)\n';
  if (o.local.length > 0) {
    out += 'From your players:\n';
    for (const l of o.local) {
      out += `  ${printable(l.name)}${l.smart ? ' (smart)' : ''} — ${l.player}, ${formatCount(l.tracks)} tracks, ${l.remoteName !== undefined ? `on the remote as ${printable(l.remoteName)}` : 'not published yet'}\n`;
    }
  }
  if (o.remote.length > 0) {
    out += 'On the remote:\n';
    for (const r of o.remote) out += `  ${printable(r.key)} — ${printable(r.user)}${r.player ? `, from ${printable(r.player)}` : ''}${r.smart ? ', smart' : ''}${r.tracks !== undefined ? `, ${formatCount(r.tracks)} tracks` : ''}\n`;
  }
  return out;
}
