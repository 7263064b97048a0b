/**
 * `cratesync pull --from alice [--playlist P]…`: only the tracks of some of
 * another user's playlists (or of her whole collection), downloaded by the
 * engine, then each playlist written as an M3U8 under
 * `<library>/Playlists/<user>/`.
 */
import type { Context } from '../context.js';
import type { Io } from '../io.js';
import type { Problem } from '../../core/problem.js';
import type { CollectionIndex, IndexedTrack } from '../../share/collection-index.js';
import type { ResolvedTrack } from '../../share/collection-resolve.js';
import type { PlaylistNode } from '../../share/rekordbox/collection-reader.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLookSession } from '../session.js';
import { openCollection } from '../../share/collection-open.js';
import { readerFiles } from '../../share/crew-files.js';
import { resolveTracks } from '../../share/collection-resolve.js';
import { findPlaylists } from '../../share/rekordbox/collection-reader.js';
import { playlistFilePath, writePlaylist } from '../../share/playlist-files.js';
import { ExitCode } from '../../errors.js';
import { formatCount, printable } from '../format.js';
import { syncCommand, type SyncFlags } from './sync-run.js';
import { checkUserName } from '../../share/user-registry.js';

export interface PlaylistPullFlags extends SyncFlags {
  from: string;
  playlist?: string[];
}

type Selected = Array<{ path: string; node: PlaylistNode & { type: 'playlist' } }>;

/** The playlists `specs` name, each once; every playlist of the tree when there are none. */
function select(index: CollectionIndex, specs: readonly string[] | undefined): Selected {
  const chosen = new Map<string, Selected[number]>();
  for (const spec of specs?.length ? specs : ['']) {
    const found = spec === '' ? everyPlaylist(index.playlists) : findPlaylists(index.playlists, spec);
    for (const p of found) chosen.set(p.path, p);
  }
  return [...chosen.values()];
}

function everyPlaylist(n: PlaylistNode, at = ''): Selected {
  if (n.type === 'playlist') return [{ path: at || n.name, node: n }];
  return n.children.flatMap((c) => everyPlaylist(c, at ? `${at}/${c.name}` : at === '' && n.name === 'ROOT' ? c.name : `${n.name}/${c.name}`));
}

interface Looked {
  index: CollectionIndex;
  selected: Selected;
  resolved: Map<string, ResolvedTrack>;
  root: string;
}

/** Reads her collection and what of it this library has, in a read-only session (a service may hold the library). */
async function look(ctx: Context, signal: AbortSignal, library: string | undefined, remoteArg: string | undefined, flags: PlaylistPullFlags, problems: Problem[]): Promise<Looked> {
  const tmpDir = await mkdtemp(join(tmpdir(), 'cratesync-collection-'));
  try {
    return await withLookSession(ctx, { library, remote: remoteArg, createRoot: true }, async ({ session, remote }) => {
      const { catalog, mirror } = session.forRemote(remote);
      await catalog.refresh({ full: Boolean(flags.full), problems, signal, readOnly: true });
      const { index } = await openCollection(remote, mirror, flags.from, { tmpDir, problems, signal });
      const selected = select(index, flags.playlist);
      const ids = new Set(selected.flatMap((p) => p.node.tracks));
      const tracks = index.tracks.filter((t) => ids.has(t.id));
      return { index, selected, resolved: resolveTracks(tracks, readerFiles(session.root, session.index, mirror)), root: session.root };
    });
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
  }
}

/** playlistPull runs `pull --from`; resolves to the exit code. */
export async function playlistPull(ctx: Context, io: Io, signal: AbortSignal, library: string | undefined, remoteArg: string | undefined, flags: PlaylistPullFlags): Promise<number> {
  const user = checkUserName(flags.from, '--from');
  const problems: Problem[] = [];
  const first = await look(ctx, signal, library, remoteArg, flags, problems);
  for (const p of problems.splice(0)) io.stderr.write(`warning: ${printable(p.path)}: ${printable(p.message)}\n`);
  const missing = [...first.resolved.values()].flatMap((t) => (t.state === 'missing' && t.path ? [t.path] : []));
  let code: number = ExitCode.Ok;
  if (missing.length > 0 || flags.dryRun) code = await syncCommand(ctx, io, signal, 'pull', library, remoteArg, { ...flags, delete: false, paths: missing });
  else if (!ctx.global.json) io.stdout.write(`pull: your library already has every track of ${formatCount(first.selected.length)} playlists\n`);
  if (flags.dryRun || code === ExitCode.Failed || code === ExitCode.Interrupted) return code;

  const now = await look(ctx, signal, library, remoteArg, flags, problems);
  const byId = new Map<string, IndexedTrack>(now.index.tracks.map((t) => [t.id, t]));
  let written = 0;
  const left: string[] = [];
  for (const p of now.selected) {
    const tracks = p.node.tracks.flatMap((id) => {
      const r = now.resolved.get(id);
      const t = byId.get(id);
      if (!r?.abs || (r.state !== 'have' && r.state !== 'same-content')) {
        left.push(`${p.path}: ${r?.path ?? t?.location ?? `TrackID ${id}`} (${r?.state === 'missing' ? 'not downloaded' : (r?.why ?? 'not in the bucket')})`);
        return [];
      }
      return [{ abs: r.abs, ...(t?.time !== undefined ? { durationSec: t.time } : {}), ...(t?.artist ? { artist: t.artist } : {}), ...(t?.name ? { title: t.name } : {}) }];
    });
    if (await writePlaylist(now.root, playlistFilePath(user, p.path), tracks)) written++;
  }
  for (const l of left) io.stderr.write(`warning: left out of its playlist: ${printable(l)}\n`);
  if (!ctx.global.json) io.stderr.write(`wrote ${formatCount(written)} of ${formatCount(now.selected.length)} playlists under Playlists/${user}/ (the others were already so)\n`);
  return Math.max(code, left.length > 0 ? ExitCode.Partial : ExitCode.Ok);
}
