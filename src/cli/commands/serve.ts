/**
 * `cratesync serve [remote]`: the remote's music to Subsonic apps (DSub,
 * Symfonium, Feishin…), browsed from its catalog and streamed from the
 * library or the remote, until Ctrl-C; and `cratesync serve user …`: who may
 * log in. The server itself is subsonic/serve-start.ts, the same one the
 * service runs when the config says `serve: {enabled: true}`.
 *
 * State: the library's (--library, else the config's when its folder is
 * there), as `ls` reads it; else a state of the remote's own. The users live
 * in that state, so `serve user` takes the same --library/--remote.
 */
import type { Command } from 'commander';
import type { CommandDeps } from '../deps.js';
import type { Context } from '../context.js';
import type { Db } from '../../state/state-db.js';
import type { Remote } from '../../remote/remote.js';
import type { RemoteCatalog } from '../../sync/catalog.js';
import type { ListenAddress } from '../../config/listen-address.js';
import type { LoadedTls, TlsFiles } from '../../subsonic/serve-start.js';
import { collectGarbage } from '../memory-policy.js';
import type { ServeUsers } from '../../state/serve-users.js';
import { DEFAULT_LISTEN, exposureWarning, listenProblem, parseListen } from '../../config/listen-address.js';
import { coversDirOf, expandHome, remoteStateDbFile, serveKeyFile, stateDbFile } from '../../config/paths.js';
import { openStateDb } from '../../state/state-db.js';
import { openRemote } from '../../remote/remote-url.js';
import { libraryRoot, remoteOptions, remoteUrl, userName } from '../context.js';
import { configuredLibrary, withLookSession, withRemoteState } from '../session.js';
import { newPassword, type SecretInput } from '../ask-secret.js';
import { ExitCode, UsageError } from '../../errors.js';
import { formatAgo, printable } from '../format.js';

const REMOTE_HELP = 's3://bucket/prefix, file:///path or a folder (default: from the config, else the embedded folder remote)';

const HELP_AFTER = `
Point a Subsonic app at the URL printed, with a user added by
cratesync serve user add NAME. The server answers on 127.0.0.1 only unless
--listen names another address; beyond this machine, give --tls-cert and
--tls-key (or put an HTTPS reverse proxy in front): apps send the password,
or a token that proves it, in every request.

The config can set serve.listen, serve.tlsCert and serve.tlsKey; with
serve.enabled the service (cratesync service run) serves as well.

Examples:
  cratesync serve                                   the configured remote, on 127.0.0.1:4533
  cratesync serve --listen 0.0.0.0:4533 --tls-cert cert.pem --tls-key key.pem
  cratesync serve user add alice                    asks for alice's password`;

interface ServeFlags {
  listen?: string;
  tlsCert?: string;
  tlsKey?: string;
  library?: string;
}

interface UserFlags {
  remote?: string;
  library?: string;
  passwordStdin?: boolean;
}

/** addServeCommands registers `serve` and `serve user …` on `program`. */
export function addServeCommands(program: Command, deps: CommandDeps, stdin: SecretInput = process.stdin): void {
  const serve = program
    .command('serve')
    .description('serve the remote to Subsonic apps (DSub, Symfonium, Feishin…) until Ctrl-C')
    .argument('[remote]', REMOTE_HELP)
    .option('--listen <host:port>', `address to listen on (default: the config's serve.listen, else ${DEFAULT_LISTEN})`)
    .option('--tls-cert <file>', 'PEM certificate (chain): serve HTTPS, with --tls-key')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option('--library <dir>', "serve from this library's state, streaming its identical files (default: the config's library)")
    .addHelpText('after', HELP_AFTER)
    .action(async (remote: string | undefined, flags: ServeFlags, c: Command) => {
      const ctx = await deps.ctxFor(c);
      deps.exit(await serveCommand(ctx, deps, remote, flags));
    });

  const user = serve.command('user').description('the users Subsonic apps log in as (kept in the state, never in the config)');
  const stateOptions = (cmd: Command) =>
    cmd
      .option('--remote <url>', `the remote served without a library: ${REMOTE_HELP}`)
      .option('--library <dir>', "the library whose state keeps the users (default: the config's library)");

  stateOptions(
    user
      .command('add')
      .description('add a user; asks for the password twice (or reads it from stdin)')
      .argument('<name>', 'the user name apps log in with')
      .option('--password-stdin', 'read the password from stdin (first line)'),
  ).action(async (name: string, _f: unknown, c: Command) => {
    const ctx = await deps.ctxFor(c);
    const flags = c.optsWithGlobals<UserFlags>();
    const password = await newPassword(stdin, deps.io.stderr, { fromStdin: Boolean(flags.passwordStdin), what: `password for ${name}` });
    await withServeUsers(ctx, flags, async (users) => users.add(name, password));
    deps.io.stdout.write(`added ${printable(name)}: point a Subsonic app at cratesync serve's address with this name and password\n`);
    deps.exit(ExitCode.Ok);
  });

  stateOptions(
    user
      .command('password')
      .description("replace a user's password; asks twice (or reads it from stdin)")
      .argument('<name>')
      .option('--password-stdin', 'read the password from stdin (first line)'),
  ).action(async (name: string, _f: unknown, c: Command) => {
    const ctx = await deps.ctxFor(c);
    const flags = c.optsWithGlobals<UserFlags>();
    await withServeUsers(ctx, flags, async (users) => {
      if (!users.list().some((u) => u.name === name)) throw new UsageError(`no serve user ${name} (cratesync serve user list shows them)`);
      const password = await newPassword(stdin, deps.io.stderr, { fromStdin: Boolean(flags.passwordStdin), what: `new password for ${name}` });
      users.setPassword(name, password);
    });
    deps.io.stdout.write(`password of ${printable(name)} replaced\n`);
    deps.exit(ExitCode.Ok);
  });

  stateOptions(user.command('remove').description('remove a user (and its API key)').argument('<name>')).action(async (name: string, _f: unknown, c: Command) => {
    const ctx = await deps.ctxFor(c);
    const removed = await withServeUsers(ctx, c.optsWithGlobals<UserFlags>(), async (users) => users.remove(name));
    if (!removed) throw new UsageError(`no serve user ${name} (cratesync serve user list shows them)`);
    deps.io.stdout.write(`removed ${printable(name)}\n`);
    deps.exit(ExitCode.Ok);
  });

  stateOptions(user.command('list').description('list the users')).action(async (_f: unknown, c: Command) => {
    const ctx = await deps.ctxFor(c);
    const list = await withServeUsers(ctx, c.optsWithGlobals<UserFlags>(), async (users) => users.list());
    if (ctx.global.json) {
      const json = list.map((u) => ({ name: u.name, created: new Date(u.created).toISOString(), apiKey: u.hasApiKey }));
      deps.io.stdout.write(`${JSON.stringify({ users: json }, null, 2)}\n`);
    } else {
      deps.io.stdout.write(renderServeUsers(list));
    }
    deps.exit(ExitCode.Ok);
  });

  stateOptions(
    user
      .command('key')
      .description('make a new OpenSubsonic API key for a user (shown once; the old one stops working)')
      .argument('<name>'),
  ).action(async (name: string, _f: unknown, c: Command) => {
    const ctx = await deps.ctxFor(c);
    const key = await withServeUsers(ctx, c.optsWithGlobals<UserFlags>(), async (users) => users.newApiKey(name));
    deps.io.stderr.write(`API key of ${printable(name)}, shown this once (apps that take an API key send it as apiKey=):\n`);
    deps.io.stdout.write(`${key}\n`);
    deps.exit(ExitCode.Ok);
  });
}

/** renderServeUsers is the table `serve user list` prints. */
export function renderServeUsers(users: ReadonlyArray<{ name: string; created: number; hasApiKey: boolean }>, now: number = Date.now()): string {
  if (users.length === 0) return 'no users yet (cratesync serve user add NAME adds one)\n';
  const rows = [['USER', 'ADDED', 'API KEY'], ...users.map((u) => [printable(u.name), formatAgo(new Date(u.created).toISOString(), now), u.hasApiKey ? 'yes' : 'no'])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => `${r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')}\n`).join('');
}

/**
 * listenFrom reads the listen address: `--listen`, else the config's (checked
 * by its schema already), else {@link DEFAULT_LISTEN}. Throws UsageError
 * naming the flag for a bad one.
 */
export function listenFrom(flag: string | undefined, configured: string | undefined): ListenAddress {
  if (flag !== undefined) {
    const why = listenProblem(flag);
    if (why) throw new UsageError(`--listen ${JSON.stringify(flag)}: ${why}`);
    return parseListen(flag);
  }
  return parseListen(configured ?? DEFAULT_LISTEN);
}

/** tlsFrom reads the TLS files: both flags, else the config's pair. Throws UsageError when only one flag is given. */
export function tlsFrom(ctx: Context, flags: ServeFlags): TlsFiles | undefined {
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both or neither');
  if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) return { cert: expandHome(flags.tlsCert), key: expandHome(flags.tlsKey) };
  const c = ctx.config.serve;
  return c?.tlsCert !== undefined && c.tlsKey !== undefined ? { cert: expandHome(c.tlsCert), key: expandHome(c.tlsKey) } : undefined;
}

/** What the server runs over: a state, the remote and its catalog there, and the library when there is one. */
interface Served {
  db: Db;
  remote: Remote;
  catalog: RemoteCatalog;
  library?: string;
  /** The state is a copy (a service or a run holds the library). */
  copy?: boolean;
  /** The state database's file, beside which the cover store is. */
  stateFile: string;
}

async function serveCommand(ctx: Context, deps: CommandDeps, remoteArg: string | undefined, flags: ServeFlags): Promise<number> {
  const listen = listenFrom(flags.listen, ctx.config.serve?.listen);
  const tls = tlsFrom(ctx, flags);
  const warning = exposureWarning(listen.host, tls !== undefined);
  if (warning) deps.io.stderr.write(`cratesync: ${warning}\n`);
  const loaded = tls ? await (await import('../../subsonic/serve-start.js')).loadTls(tls) : undefined;
  const library = flags.library ?? (await configuredLibrary(ctx));
  const go = (s: Served) => serveUntilStopped(ctx, deps, s, { listen, ...(loaded ? { tls: loaded } : {}) });
  if (library !== undefined) {
    return withLookSession(ctx, { library, ...(remoteArg !== undefined ? { remote: remoteArg } : {}) }, ({ session, remote }) =>
      go({ db: session.db, remote, catalog: session.forRemote(remote).catalog, library: session.root, copy: session.readOnly, stateFile: stateDbFile(ctx.paths, session.root) }),
    );
  }
  return withRemoteState(ctx, remoteArg, ({ db, remote, catalog }) => go({ db, remote, catalog, stateFile: remoteStateDbFile(ctx.paths, remote.url) }));
}

async function serveUntilStopped(ctx: Context, deps: CommandDeps, s: Served, o: { listen: ListenAddress; tls?: LoadedTls }): Promise<number> {
  const { io, signal } = deps;
  // Loaded here: the server's modules (hono, the index) would slow every other command's start.
  const [{ createLogger, flushLog }, { openServeContext }, { startSubsonicServer }] = await Promise.all([
    import('../../service/logger.js'),
    import('../../subsonic/serve-context.js'),
    import('../../subsonic/serve-start.js'),
  ]);
  // stdout says where the server is; the log (requests, problems) goes to stderr.
  const log = await createLogger({ to: 'stderr' }, ctx.global.verbose ? 'info' : 'warn');
  try {
    if (s.copy) {
      io.stderr.write(
        `cratesync: a service or another run holds ${printable(s.library ?? '')}: serving from a copy of its state (what apps change still reaches the remote); ` +
          'to serve from the service itself, set serve.enabled in the config\n',
      );
    }
    const host = await openServeContext({
      db: s.db,
      remote: s.remote,
      catalog: s.catalog,
      ...(s.library !== undefined ? { library: s.library } : {}),
      crewUser: userName(ctx),
      coversDir: coversDirOf(s.stateFile),
      log,
      settle: collectGarbage,
      signal,
    });
    try {
      // Stopped while the index was built (a build cut short is done again at the next start): nothing to serve.
      if (signal.aborted) return ExitCode.Ok;
      const server = await startSubsonicServer(host, { listen: o.listen, ...(o.tls ? { tls: o.tls } : {}), keyFile: serveKeyFile(ctx.paths), log });
      try {
        if (ctx.global.json) io.stdout.write(`${JSON.stringify({ url: server.url, remote: s.remote.url, users: server.users })}\n`);
        else io.stdout.write(`${servingLine(s.remote.url, server.url, server.users)}\n`);
        await stopped(signal);
      } finally {
        await server.close();
      }
    } finally {
      await host.close();
    }
    return ExitCode.Ok;
  } finally {
    flushLog(log);
  }
}

/** servingLine is the one line `serve` prints once it listens. */
export function servingLine(remote: string, url: string, users: number): string {
  const hint = users === 0 ? '; no users yet: add one with cratesync serve user add NAME' : '';
  return `serving ${printable(remote)} to Subsonic apps at ${url} (Ctrl-C stops)${hint}`;
}

function stopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * withServeUsers runs `fn` with the users of the state `serve` would use
 * (see the file's comment). Takes no run lock: a user is a row of its own
 * that no run touches, and a running server sees it at the next login.
 */
async function withServeUsers<T>(ctx: Context, flags: UserFlags, fn: (users: ServeUsers) => Promise<T>): Promise<T> {
  const library = flags.library ?? (await configuredLibrary(ctx));
  const file = library !== undefined ? stateDbFile(ctx.paths, libraryRoot(ctx, library)) : remoteStateDbFile(ctx.paths, await canonicalRemote(ctx, flags.remote));
  const { ServeUsers } = await import('../../state/serve-users.js');
  const db = openStateDb(file);
  try {
    return await fn(new ServeUsers(db, serveKeyFile(ctx.paths)));
  } finally {
    db.close();
  }
}

/** The remote's URL as its state knows it (opening a remote does no I/O). */
async function canonicalRemote(ctx: Context, arg: string | undefined): Promise<string> {
  const url = remoteUrl(ctx, arg);
  const remote = await openRemote(url, remoteOptions(ctx, url));
  try {
    return remote.url;
  } finally {
    await remote.close();
  }
}
