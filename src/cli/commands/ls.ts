/**
 * `cratesync ls [remote] [pattern...]`: what a remote's `music/` holds, as its
 * catalog knows it (library path, size, tags, who wrote it and when), without
 * listing the bucket. The mirror in the state database is brought up to date
 * the cheap way (only catalog logs written since the last look; a full
 * listing the first time or with --full, see sync/catalog.ts) and printed
 * from there a row at a time, so a large remote is never held whole.
 */
import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CommandDeps } from '../deps.js';
import type { Context } from '../context.js';
import type { Io } from '../io.js';
import type { MirrorObject } from '../../state/remote-mirror.js';
import type { Problem } from '../../core/problem.js';
import { MUSIC_PREFIX } from '../../sync/layout.js';
import { nfc } from '../../library/names.js';
import { defaultRemoteDir, expandHome } from '../../config/paths.js';
import { configuredLibrary, withLookSession, withRemoteState } from '../session.js';
import type { RemoteState } from '../../sync/library-session.js';
import { lsMatcher, type LsEntry } from '../ls-pattern.js';
import { ExitCode, UnreachableError, UsageError } from '../../errors.js';
import { formatBytes, formatCount, printable } from '../format.js';
import { withFullOption } from '../options.js';

interface LsFlags {
  remote?: string;
  library?: string;
  long?: boolean;
  full?: boolean;
}

const HELP_AFTER = `
Which argument is the remote: the first one, when it is a URL (s3://bucket/prefix,
file:///path), a folder path (/…, ./…, ../…, ~/…), or the name of a folder holding
music/ or .cratesync/. Otherwise every argument is part of the pattern, and the
remote is --remote, the config's, or the embedded folder remote.

Pattern: an argument with * ? [ or { is a glob on the library path, as --include
takes it ('*.flac' matches names anywhere, 'Live/**' whole paths); any other
argument is words that must all occur, in any case, in the path or the artist,
title, album, album artist or genre tag. An entry is listed when every argument
matches.

State: the library's (--library, else the config's) when there is one; without
a library, a state of the remote's own under the data folder (the first look
lists the remote in full, later ones read only what the catalog added).

Examples:
  cratesync ls                              everything on the configured remote
  cratesync ls s3://bucket/dj björk --long  by Björk, or with björk in the path
  cratesync ls '*.flac' --json              every FLAC, with all the catalog knows`;

/** addLsCommand registers `ls` on `program`. */
export function addLsCommand(program: Command, deps: CommandDeps): void {
  const cmd = program
    .command('ls')
    .description('list what the remote holds, from its catalog: path, size, tags, who wrote it and when')
    .argument('[remote]', 's3://bucket/prefix, file:///path or a folder (else it starts the pattern)')
    .argument('[pattern...]', 'a glob on the library path, or words to find in the path and tags')
    .option('--remote <url>', 'the remote (default: from the config, else the embedded folder remote)')
    .option('--library <dir>', "read and keep the remote's catalog in this library's state (default: the config's library)")
    .option('-l, --long', 'also: size, artist – title, album, year, writer, when written');
  withFullOption(cmd)
    .addHelpText('after', HELP_AFTER)
    .action(async (first: string | undefined, rest: string[], flags: LsFlags, c: Command) => {
      const ctx = await deps.ctxFor(c);
      deps.exit(await lsCommand(ctx, deps, first === undefined ? rest : [first, ...rest], flags));
    });
}

async function lsCommand(ctx: Context, deps: CommandDeps, args: string[], flags: LsFlags): Promise<number> {
  const { remote: remoteArg, terms } = await splitArgs(args, flags.remote);
  const match = lsMatcher(terms);
  const list = (state: Listed) => listRemote(ctx, deps, state, { match, filtered: terms.length > 0 }, flags);
  const library = flags.library ?? (await configuredLibrary(ctx));
  if (library !== undefined) {
    // What the listing learns of the remote is kept when the library is free: the next run starts from it.
    return withLookSession(ctx, { library, ...(remoteArg ? { remote: remoteArg } : {}) }, ({ session, remote }) => list(session.forRemote(remote)));
  }
  return withRemoteState(ctx, remoteArg, list);
}

/**
 * splitArgs tells the remote from the pattern (see HELP_AFTER). Throws
 * UsageError when --remote and a first argument that is a remote both name one.
 */
export async function splitArgs(args: readonly string[], flag: string | undefined): Promise<{ remote?: string; terms: string[] }> {
  const [first, ...rest] = args;
  const firstIsRemote = first !== undefined && (await looksLikeRemote(first));
  if (flag !== undefined && firstIsRemote) throw new UsageError(`two remotes given: --remote ${flag} and ${first}`);
  if (flag !== undefined) return { remote: flag, terms: [...args] };
  return firstIsRemote ? { remote: first, terms: rest } : { terms: [...args] };
}

/**
 * An argument is the remote when it is a URL or spelled as a path (a missing
 * folder is then reported as such, not searched for as words), or when it
 * names a folder that holds a remote's layout. A bare name is otherwise a
 * word: run inside a library, `cratesync ls Björk` means the artist, even
 * though ./Björk exists.
 */
async function looksLikeRemote(arg: string): Promise<boolean> {
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(arg)) return true;
  if (/^(\/|\.{1,2}([/\\]|$)|~([/\\]|$)|[a-z]:[/\\])/i.test(arg)) return true;
  const root = expandHome(arg);
  return (await isDir(join(root, MUSIC_PREFIX))) || (await isDir(join(root, '.cratesync')));
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

interface Selection {
  match: (e: LsEntry) => boolean;
  /** A pattern was given (the count line then says how many matched). */
  filtered: boolean;
}

/** What `ls` reads: the remote, and its mirror and catalog in a library's state or in one of its own. */
type Listed = Pick<RemoteState, 'remote' | 'mirror' | 'catalog'>;

async function listRemote(ctx: Context, deps: CommandDeps, { remote, mirror, catalog }: Listed, sel: Selection, flags: LsFlags): Promise<number> {
  const { io, signal } = deps;
  // A folder remote that is not there (an unplugged disk) lists nothing; the mirror would show what it held once.
  if (remote.kind === 'folder' && remote.url !== remoteUrlOfDefault(ctx) && !(await isDir(fileURLToPath(remote.url)))) {
    throw new UnreachableError(`folder remote ${fileURLToPath(remote.url)} does not exist`);
  }
  const problems: Problem[] = [];
  // Only a mirror never listed (or --full) lists the remote; other tools' writes then wait for the next push or --full.
  const refreshed = await catalog.refresh({ full: Boolean(flags.full), problems, signal, readOnly: true, maxAgeMs: Number.POSITIVE_INFINITY });
  for (const p of problems) io.stderr.write(`cratesync: warning: ${p.path}: ${p.message}\n`);

  const json = Boolean(ctx.global.json);
  const out = bufferedOut(io);
  let total = 0;
  let shown = 0;
  let bytes = 0;
  if (json) await out.write(`{"remote":${JSON.stringify(remote.url)},"listed":${refreshed.listed},"objects":[`);
  for (const o of mirror.inKeyOrder(MUSIC_PREFIX)) {
    if (signal.aborted) break;
    total++;
    const entry = { path: nfc(o.key.slice(MUSIC_PREFIX.length)), ...(isTagObject(o.tags) ? { tags: o.tags } : {}) };
    if (!sel.match(entry)) continue;
    shown++;
    bytes += o.size;
    if (json) await out.write(`${shown > 1 ? ',' : ''}\n${JSON.stringify(objectJson(entry.path, o))}`);
    else await out.write(`${flags.long ? longLine(entry.path, o) : printable(entry.path)}\n`);
  }
  if (json) await out.write(`\n],"count":${shown},"total":${total},"bytes":${bytes}}\n`);
  else await out.write(`${countLine(shown, total, bytes, sel.filtered)}\n`);
  await out.end();
  return signal.aborted ? ExitCode.Interrupted : ExitCode.Ok;
}

function remoteUrlOfDefault(ctx: Context): string {
  return pathToFileURL(defaultRemoteDir(ctx.paths)).href;
}

function isTagObject(t: unknown): t is Record<string, unknown> {
  return typeof t === 'object' && t !== null && !Array.isArray(t);
}

/** What --json shows of one object: every field the catalog and the listing know. */
export function objectJson(path: string, o: MirrorObject): Record<string, unknown> {
  return {
    path,
    key: o.key,
    size: o.size,
    ...(o.md5 ? { md5: o.md5 } : {}),
    ...(o.etag ? { etag: o.etag } : {}),
    ...(o.audioHash ? { audioHash: o.audioHash } : {}),
    ...(isTagObject(o.tags) ? { tags: o.tags } : {}),
    ...(o.writer ? { writer: o.writer } : {}),
    ...(o.writtenAt !== undefined ? { writtenAt: isoTime(o.writtenAt) } : {}),
    ...(o.mtime ? { mtime: isoTime(o.mtime.getTime()) } : {}),
  };
}

/** longLine is one object for --long, tab-separated: path, size, artist – title, album, year, writer, when written ('-': unknown). */
export function longLine(path: string, o: MirrorObject): string {
  const t = isTagObject(o.tags) ? o.tags : {};
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const artistTitle = [text(t.artist), text(t.title)].filter(Boolean).join(' – ');
  const year = typeof t.year === 'number' && Number.isFinite(t.year) ? String(t.year) : undefined;
  const fields = [path, formatBytes(o.size), artistTitle || undefined, text(t.album), year, o.writer, o.writtenAt !== undefined ? isoTime(o.writtenAt) : undefined];
  return fields.map((f) => printable(f ?? '-')).join('\t');
}

function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString().slice(0, 19)}Z`;
}

function countLine(shown: number, total: number, bytes: number, filtered: boolean): string {
  const objects = (n: number) => `${formatCount(n)} ${n === 1 ? 'object' : 'objects'}`;
  return filtered ? `${formatCount(shown)} of ${objects(total)} match (${formatBytes(bytes)})` : `${objects(total)} (${formatBytes(bytes)})`;
}

/** Writes in pieces of a few tens of kB, each taken by the pipe before the next is made. */
function bufferedOut(io: Io): { write(s: string): Promise<void>; end(): Promise<void> } {
  let buf = '';
  const flush = async () => {
    if (buf === '') return;
    io.stdout.write(buf);
    buf = '';
    await io.stdout.drained?.();
  };
  return {
    write: async (s) => {
      buf += s;
      if (buf.length >= 1 << 16) await flush();
    },
    end: flush,
  };
}
