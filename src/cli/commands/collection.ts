/**
 * `cratesync collection push|list|show|pull`: Rekordbox collections shared
 * through the bucket. The share/ modules do the work; this file turns flags
 * into calls and results into output.
 */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import type { Context } from '../context.js';
import type { Io } from '../io.js';
import type { Problem } from '../../core/problem.js';
import type { PlaylistNode } from '../../share/rekordbox/collection-reader.js';
import type { ResolvedTrack } from '../../share/collection-resolve.js';
import type { CollectionIndex } from '../../share/collection-index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRemote } from '../../remote/remote-url.js';
import { expandHome } from '../../config/paths.js';
import { remoteOptions, remoteUrl, userName } from '../context.js';
import { withLookSession } from '../session.js';
import { collectionUsers, listVersions } from '../../share/collection-keys.js';
import { checkUserName, registerMachine, thisMachine, userKey } from '../../share/user-registry.js';
import { userNameSource } from '../after-push.js';
import { countPlaylists, pushCollection } from '../../share/collection-store.js';
import { openCollection } from '../../share/collection-open.js';
import { knownPaths, localMd5, readerFiles } from '../../share/crew-files.js';
import { resolveTracks } from '../../share/collection-resolve.js';
import { playlistPaths } from '../../share/collection-index.js';
import { rewriteCollectionFile } from '../../share/collection-pull.js';
import { describe, ExitCode, UsageError } from '../../errors.js';
import { formatBytes, formatCount, printable } from '../format.js';
import { syncCommand } from './sync-run.js';
import type { Remote } from '../../remote/remote.js';
import type { FoundCollection } from '../../share/collection-store.js';

interface CollectionFlags {
  xml?: string;
  from?: string;
  new?: boolean;
  out?: string;
  version?: string;
  library?: string;
  downloadMissing?: boolean;
}

/** How many listed items a report shows without --verbose. */
const SHOW = 20;

export function addCollectionCommands(program: Command, deps: CommandDeps): void {
  const c = program.command('collection').description('share Rekordbox collections with your crew through the bucket');
  c.command('push')
    .description('store your Rekordbox collection XML (a new version, with an index of its tracks) for your crew')
    .argument('[remote]', 'remote URL or folder (default: from the config)')
    .option('--xml <file>', 'the exported collection XML (default: collection.xml in the config)')
    .option('--library <dir>', 'library folder (default: from the config)')
    .action(async (remote: string | undefined, flags: CollectionFlags, cmd: Command) => {
      deps.exit(await push(await deps.ctxFor(cmd), deps, remote, flags));
    });
  c.command('list')
    .description('list the collections kept per user, and their versions')
    .argument('[remote]', 'remote URL or folder (default: from the config)')
    .option('--from <user>', 'only this user')
    .action(async (remote: string | undefined, flags: CollectionFlags, cmd: Command) => {
      deps.exit(await list(await deps.ctxFor(cmd), deps.io, remote, flags));
    });
  readsOne(c.command('show').description("show another user's playlist tree; --new: the tracks they have that you lack"))
    .option('--new', 'list the tracks they have that your library lacks, with sizes')
    .action(async (remote: string | undefined, flags: CollectionFlags, cmd: Command) => {
      deps.exit(await show(await deps.ctxFor(cmd), deps.io, deps.signal, remote, flags));
    });
  readsOne(c.command('pull').description("download another user's collection with every track pointing at your own files"))
    .option('--out <file>', 'where to write it (default: <library>/Playlists/<user>/rekordbox.xml)')
    .option('--download-missing', 'first download the tracks your library lacks')
    .action(async (remote: string | undefined, flags: CollectionFlags, cmd: Command) => {
      deps.exit(await pull(await deps.ctxFor(cmd), deps.io, deps.signal, remote, flags));
    });
}


/** The remote argument and the flags of a command that reads one user's collection. */
function readsOne(cmd: Command): Command {
  return cmd
    .argument('[remote]', 'remote URL or folder (default: from the config)')
    .requiredOption('--from <user>', 'whose collection')
    .option('--version <v>', 'a kept version (collection list shows them)')
    .option('--library <dir>', 'library folder (default: from the config)');
}

async function withTmp<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cratesync-collection-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function warn(io: Io, problems: readonly Problem[]): void {
  for (const p of problems) io.stderr.write(`warning: ${printable(p.path)}: ${printable(p.message)}\n`);
}

async function push(ctx: Context, deps: CommandDeps, remoteArg: string | undefined, flags: CollectionFlags): Promise<number> {
  const { io, signal } = deps;
  const xml = flags.xml ?? ctx.config.collection?.xml;
  if (!xml) throw new UsageError('no collection XML: give one with --xml FILE, or set collection.xml in the config');
  const xmlFile = expandHome(xml);
  const user = checkUserName(userName(ctx), userNameSource(ctx));
  const problems: Problem[] = [];
  return withLookSession(ctx, { library: flags.library, remote: remoteArg }, async ({ session, remote }) => {
    const { catalog, mirror } = session.forRemote(remote);
    await catalog.refresh({ full: false, problems, signal, readOnly: true });
    // This machine is registered (a push refreshes the registry), and the user's roots hint where the XML's lie.
    let hints: string[] = [];
    try {
      const entry = await registerMachine(remote, user, thisMachine(session, deps.version));
      hints = entry.machines.map((m) => m.root);
    } catch (err) {
      problems.push({ path: userKey(user), message: `users registry not updated: ${describe(err)}` });
    }
    const r = await withTmp((tmpDir) =>
      pushCollection({ remote, xmlFile, user, writer: session.writer, known: () => knownPaths(mirror), localMd5: localMd5(session.root, session.index), hints, tmpDir, signal }),
    );
    warn(io, problems);
    if (ctx.global.json) {
      io.stdout.write(`${JSON.stringify({ user, remote: remote.url, ...r })}\n`);
      return ExitCode.Ok;
    }
    const matched = r.tracks - r.unmatched.length;
    const how = [
      r.matched.root && `${formatCount(r.matched.root)} by path${r.roots[0] ? ` under ${printable(r.roots[0])}` : ''}`,
      r.matched.name && `${formatCount(r.matched.name)} by name and size`,
      r.matched.hash && `${formatCount(r.matched.hash)} by content`,
    ].filter(Boolean);
    const stored = r.unchanged ? `unchanged since version ${r.version}` : `stored as version ${r.version}`;
    io.stdout.write(
      `collection push: ${user}'s collection (${formatCount(r.tracks)} tracks, ${formatCount(r.playlists)} playlists, ${formatBytes(r.size)}) ${stored}; ` +
        `${formatCount(matched)} matched to files in the bucket${how.length ? ` (${how.join(', ')})` : ''}, ${formatCount(r.unmatched.length)} unmatched\n`,
    );
    if (r.kept) io.stdout.write(`the collection another tool had stored was kept as ${r.kept}\n`);
    const all = Boolean(ctx.global.verbose);
    for (const t of all ? r.unmatched : r.unmatched.slice(0, SHOW)) {
      io.stdout.write(`  unmatched: ${printable(t.location ?? `TrackID ${t.id}`)}: ${printable(t.why ?? '')}\n`);
    }
    if (!all && r.unmatched.length > SHOW) io.stdout.write(`  … and ${formatCount(r.unmatched.length - SHOW)} more (--verbose lists all)\n`);
    return ExitCode.Ok;
  });
}

async function list(ctx: Context, io: Io, remoteArg: string | undefined, flags: CollectionFlags): Promise<number> {
  const from = flags.from !== undefined ? checkUserName(flags.from, '--from') : undefined;
  const url = remoteUrl(ctx, remoteArg);
  const remote = await openRemote(url, remoteOptions(ctx, url));
  try {
    const [versions, current] = await Promise.all([listVersions(remote, from), collectionUsers(remote)]);
    const users = [...new Set([...versions.map((v) => v.user), ...current.keys()])].filter((u) => !from || u === from).sort();
    const rows = users.map((u) => ({ user: u, current: current.get(u)?.key, versions: versions.filter((v) => v.user === u).map((v) => ({ version: v.version, size: v.size, indexed: Boolean(v.index) })) }));
    if (ctx.global.json) {
      io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return ExitCode.Ok;
    }
    if (rows.length === 0) io.stdout.write(from ? `${from} has no collection on ${remote.url}\n` : `no collections on ${remote.url}\n`);
    for (const r of rows) {
      io.stdout.write(`${printable(r.user)}: ${r.current ? printable(r.current) : 'no current collection'}, ${formatCount(r.versions.length)} versions kept\n`);
      for (const v of r.versions) io.stdout.write(`  ${v.version}  ${formatBytes(v.size)}${v.indexed ? '' : '  (no index)'}\n`);
    }
    return ExitCode.Ok;
  } finally {
    await remote.close();
  }
}

/** A tree's lines: folders with their playlists, each with its track count and what the reader lacks. */
function treeLines(n: PlaylistNode, depth: number, lack: (ids: readonly string[]) => { n: number; bytes: number }, out: string[]): void {
  const pad = '  '.repeat(Math.max(0, depth));
  if (n.type === 'folder') {
    if (depth >= 0) out.push(`${pad}${printable(n.name)}/`);
    for (const c of n.children) treeLines(c, depth + 1, lack, out);
    return;
  }
  const l = lack(n.tracks);
  out.push(`${pad}${printable(n.name)}  (${formatCount(n.tracks.length)} tracks${l.n ? `; you lack ${formatCount(l.n)}, ${formatBytes(l.bytes)}` : ''})`);
}

async function show(ctx: Context, io: Io, signal: AbortSignal, remoteArg: string | undefined, flags: CollectionFlags): Promise<number> {
  const from = checkUserName(flags.from ?? '', '--from');
  const problems: Problem[] = [];
  return withLookSession(ctx, { library: flags.library, remote: remoteArg, createRoot: true }, async ({ session, remote }) => {
    const { catalog, mirror } = session.forRemote(remote);
    await catalog.refresh({ full: false, problems, signal, readOnly: true });
    const { index, found, matchedHere } = await withTmp((tmpDir) => openCollection(remote, mirror, from, { ...(flags.version ? { version: flags.version } : {}), tmpDir, problems, signal }));
    const resolved = resolveTracks(index.tracks, readerFiles(session.root, session.index, mirror));
    warn(io, problems);
    // Two tracks of hers may be one file (the same file imported twice): counted once.
    const lacking = [...new Map([...resolved.values()].filter((t) => t.state === 'missing').map((t) => [t.path, t])).values()];
    const bytes = lacking.reduce((s, t) => s + (t.size ?? 0), 0);
    const inPlaylists = playlistPaths(index.playlists);
    if (ctx.global.json) {
      const doc = {
        user: from,
        key: found.key,
        ...(found.version ? { version: found.version } : {}),
        matchedHere,
        tracks: index.tracks.length,
        playlists: index.playlists,
        ...(flags.new ? { new: lacking.map((t) => ({ path: t.path, size: t.size, playlists: inPlaylists.get(t.id) ?? [] })), newBytes: bytes } : {}),
      };
      io.stdout.write(`${JSON.stringify(doc)}\n`);
      return ExitCode.Ok;
    }
    const head = `${from}'s collection${found.version ? ` (version ${found.version})` : ''}: ${formatCount(index.tracks.length)} tracks, ${formatCount(countPlaylists(index.playlists))} playlists; you lack ${formatCount(lacking.length)} (${formatBytes(bytes)})`;
    io.stdout.write(`${head}\n`);
    if (flags.new) {
      for (const t of lacking) io.stdout.write(`  ${printable(t.path ?? '')}  ${formatBytes(t.size ?? 0)}  [${(inPlaylists.get(t.id) ?? []).map(printable).join('; ')}]\n`);
      return ExitCode.Ok;
    }
    const lack = (ids: readonly string[]) => {
      let n = 0;
      let b = 0;
      for (const id of ids) {
        const t = resolved.get(id);
        if (t?.state === 'missing') {
          n++;
          b += t.size ?? 0;
        }
      }
      return { n, bytes: b };
    };
    const lines: string[] = [];
    treeLines(index.playlists, -1, lack, lines);
    io.stdout.write(lines.map((l) => `${l}\n`).join(''));
    return ExitCode.Ok;
  });
}

async function pull(ctx: Context, io: Io, signal: AbortSignal, remoteArg: string | undefined, flags: CollectionFlags): Promise<number> {
  const from = checkUserName(flags.from ?? '', '--from');
  const problems: Problem[] = [];
  const opened = async (fn: (o: { index: CollectionIndex; resolved: Map<string, ResolvedTrack>; root: string; tmpDir: string; xmlFile?: string; remote: Remote; found: FoundCollection }) => Promise<number>) =>
    withTmp((tmpDir) =>
      withLookSession(ctx, { library: flags.library, remote: remoteArg, createRoot: true }, async ({ session, remote }) => {
        const { catalog, mirror } = session.forRemote(remote);
        await catalog.refresh({ full: false, problems, signal, readOnly: true });
        const o = await openCollection(remote, mirror, from, { ...(flags.version ? { version: flags.version } : {}), tmpDir, problems, signal });
        const resolved = resolveTracks(o.index.tracks, readerFiles(session.root, session.index, mirror));
        return fn({ index: o.index, resolved, root: session.root, tmpDir, remote, found: o.found, ...(o.xmlFile ? { xmlFile: o.xmlFile } : {}) });
      }),
    );
  let code: number = ExitCode.Ok;
  if (flags.downloadMissing) {
    let missing: string[] = [];
    await opened(async ({ resolved }) => {
      missing = [...resolved.values()].flatMap((t) => (t.state === 'missing' && t.path ? [t.path] : []));
      return ExitCode.Ok;
    });
    // The pull's own report goes to stderr: stdout is this command's.
    if (missing.length > 0) code = await syncCommand(ctx, { ...io, stdout: io.stderr }, signal, 'pull', flags.library, remoteArg, { paths: missing });
    if (code === ExitCode.Failed || code === ExitCode.Interrupted) return code;
  }
  const result = await opened(async ({ index, resolved, root, tmpDir, xmlFile, remote, found }) => {
    const out = flags.out ? expandHome(flags.out) : undefined;
    const version = found.version;
    const r = await rewriteCollectionFile({ remote, user: from, found, index, resolved, root, tmpDir, ...(xmlFile ? { xmlFile } : {}), ...(out ? { out } : {}) });
    warn(io, problems);
    const inPlaylists = playlistPaths(index.playlists);
    const counts = { have: 0, 'same-content': 0, missing: 0, unmatched: 0 };
    for (const t of resolved.values()) counts[t.state]++;
    const absent = [...resolved.values()].filter((t) => t.state === 'missing' || t.state === 'unmatched');
    if (ctx.global.json) {
      io.stdout.write(
        `${JSON.stringify({ user: from, out: r.out, ...(version ? { version } : {}), tracks: index.tracks.length, ...counts, refused: r.refused.length, rewriteMs: Math.round(r.ms), absent: absent.map((t) => ({ id: t.id, state: t.state, path: t.path, why: t.why, size: t.size, playlists: inPlaylists.get(t.id) ?? [] })) })}\n`,
      );
    } else {
      io.stdout.write(
        `collection pull: ${from}'s collection → ${printable(r.out)}: ${formatCount(index.tracks.length)} tracks; ${formatCount(counts.have)} your own files, ${formatCount(counts['same-content'])} the same content under another name, ` +
          `${formatCount(counts.missing)} missing from your library, ${formatCount(counts.unmatched)} not in the bucket\n`,
      );
      const all = Boolean(ctx.global.verbose);
      for (const t of all ? absent : absent.slice(0, SHOW)) {
        const where = (inPlaylists.get(t.id) ?? []).map(printable).join('; ') || 'no playlist';
        io.stdout.write(`  ${t.state === 'missing' ? 'missing' : 'not in the bucket'}: ${printable(t.path ?? `TrackID ${t.id}`)}${t.why ? ` (${printable(t.why)})` : ''} [${where}]\n`);
      }
      if (!all && absent.length > SHOW) io.stdout.write(`  … and ${formatCount(absent.length - SHOW)} more (--verbose lists all)\n`);
      if (counts.missing > 0 && !flags.downloadMissing) io.stdout.write(`(--download-missing fetches the ${formatCount(counts.missing)} missing tracks)\n`);
      for (const e of r.refused.slice(0, SHOW)) io.stderr.write(`warning: ${printable(e)}\n`);
    }
    return ExitCode.Ok;
  });
  return Math.max(code, result);
}
