/**
 * The Subsonic server inside the service (config `serve: {enabled: true}`):
 * over the service's own session (its state, its catalog of the remote, its
 * library), so that what apps browse is what the service's runs keep, and
 * what they change (stars, playlists) is published like any of the
 * service's writes. Loaded only when enabled: the service's start pays for
 * none of it otherwise.
 */
import type { Logger } from 'pino';
import type { Remote } from '../remote/remote.js';
import type { LibrarySession } from '../sync/library-session.js';
import type { CatalogGate } from '../subsonic/serve-context.js';
import type { TlsFiles } from '../subsonic/serve-start.js';
import type { ListenAddress } from '../config/listen-address.js';
import { exposureWarning } from '../config/listen-address.js';
import { openServeContext } from '../subsonic/serve-context.js';
import { loadTls, startSubsonicServer } from '../subsonic/serve-start.js';

/** What the config sets for the server in the service (cli/service-settings.ts reads it). */
export interface ServeSettings {
  listen: ListenAddress;
  tls?: TlsFiles;
  /** config/paths.ts serveKeyFile. */
  keyFile: string;
  /** config/paths.ts serveCoversDir. */
  coversDir: string;
  /** Who playlists made through the server are written as. */
  crewUser: string;
}

export interface HostedSubsonic {
  url: string;
  /** Applies to the index what a run of the service brought into the catalog. */
  afterRun(): void;
  /** Stops listening, then waits for a catalog read under way. */
  close(): Promise<void>;
}

/**
 * hostSubsonic starts the server over the service's session. `gate` runs
 * the server's reads of the catalog where no run of the service overlaps
 * them. Throws what startSubsonicServer throws (an address taken, a TLS
 * file unreadable); the caller says it and goes on syncing.
 */
export async function hostSubsonic(o: { session: LibrarySession; remote: Remote; settings: ServeSettings; log: Logger; gate: CatalogGate; settle?: () => void }): Promise<HostedSubsonic> {
  const { session, remote, settings } = o;
  const log = o.log.child({ part: 'subsonic' });
  const tls = settings.tls ? await loadTls(settings.tls) : undefined;
  const serve = await openServeContext({
    db: session.db,
    remote,
    catalog: session.forRemote(remote).catalog,
    library: session.root,
    crewUser: settings.crewUser,
    coversDir: settings.coversDir,
    log,
    gate: o.gate,
    // The service's API, watcher and runs go on meanwhile; its server answers from the index as it grows.
    background: true,
    ...(o.settle ? { settle: o.settle } : {}),
  });
  try {
    const server = await startSubsonicServer(serve, { listen: settings.listen, ...(tls ? { tls } : {}), keyFile: settings.keyFile, log });
    const warning = exposureWarning(settings.listen.host, settings.tls !== undefined);
    if (warning) log.warn(warning);
    log.info({ url: server.url, users: server.users }, server.users === 0 ? 'serving to Subsonic apps (no users yet: cratesync serve user add NAME)' : 'serving to Subsonic apps');
    return {
      url: server.url,
      afterRun: () => void serve.reindex(),
      close: async () => {
        await server.close();
        await serve.close();
      },
    };
  } catch (err) {
    await serve.close();
    throw err;
  }
}
