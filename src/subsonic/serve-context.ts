/**
 * Building the {@link ServeContext} the Subsonic routes run over, from what
 * the caller has open: a state database and the remote's catalog in it (the
 * CLI's session or the remote's own state, see cli/session.ts; the service's
 * session inside the service). The context keeps the browsing index up to
 * date with the catalog: a cheap refresh (new catalog logs only; a full
 * listing only when the catalog decides one is due) at most once per
 * interval, however many requests ask, and never two at once.
 *
 * A large update of the index (its first build, or many changed keys) runs
 * aside (SubsonicIndex.refreshAside: on a worker thread, or for a first build
 * the open waits for, here a step at a time), through the gate like a
 * catalog read, one at a time: meanwhile requests are answered from the
 * index as committed so far, without reading the catalog.
 *
 * A problem met while refreshing goes to the log and never to a client: a
 * request is answered from the index as it stands.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Db } from '../state/state-db.js';
import type { Remote } from '../remote/remote.js';
import type { RemoteCatalog } from '../sync/catalog.js';
import type { ServeContext } from './route-types.js';
import type { Problem } from '../core/problem.js';
import { SubsonicIndex } from '../state/subsonic-index.js';
import { describe } from '../errors.js';

/** The least time between two reads of the remote catalog. */
export const REFRESH_INTERVAL_MS = 10_000;
/** An index update of at least this many songs is followed by `settle`. */
const SETTLE_AFTER_SONGS = 1000;

/**
 * Runs the catalog's refresh where it cannot overlap other work on the same
 * state (the service: between its runs), or returns undefined to skip it for
 * now (a run under way reads the catalog itself; {@link ServeHost.reindex}
 * follows it).
 */
export type CatalogGate = (refresh: () => Promise<void>) => Promise<void> | undefined;

export interface ServeContextOptions {
  db: Db;
  remote: Remote;
  /** The catalog of `remote` in `db`. */
  catalog: RemoteCatalog;
  /** The library root, when this machine has one of this remote. */
  library?: string;
  /** The crew user playlists created through the server are written as. */
  crewUser: string;
  coversDir: string;
  log: Logger;
  /** Default {@link REFRESH_INTERVAL_MS}. */
  intervalMs?: number;
  /** Default: the refresh runs at once. */
  gate?: CatalogGate;
  /**
   * Called after work that leaves much garbage behind (the first catalog
   * read, a build of the index, a large update of it), so that a long-lived
   * process gives the memory back at once instead of carrying it into the
   * next step: the CLI and the service pass a full collection.
   */
  settle?: () => void;
  /**
   * Resolve once the first catalog read is done, leaving the first build of
   * the index to go on behind (the service: its server listens meanwhile).
   * Default: openServeContext waits for the build too.
   */
  background?: boolean;
  /** Stops a build under way as close() does (the CLI's Ctrl-C while it waits for the first build). */
  signal?: AbortSignal;
  /** The index (tests give their own); default a SubsonicIndex over `db` for `remote`. */
  index?: SubsonicIndex;
  now?: () => number;
}

/** A ServeContext and what its owner does with it besides serving. */
export interface ServeHost extends ServeContext {
  /**
   * Applies what the catalog gained to the index, without reading the remote
   * (after a run that read it). Resolves once done: at once for a small
   * update; a large one goes through the gate (see refreshAside), and resolves when
   * it ends (or at once when the gate puts it off). While one runs, a call
   * waits for it, and another update follows it. Never rejects.
   */
  reindex(): Promise<void>;
  /** Stops a refresh under way and waits for it; the state may be closed once this resolves. */
  close(): Promise<void>;
}

/**
 * openServeContext makes the context and brings the index up to date once
 * (the first time for a remote, that builds it whole; with `background`, the
 * build goes on once this resolved). Never throws for a
 * remote or catalog that cannot be read: the server starts on what the state
 * knows, and says why in the log.
 */
export async function openServeContext(o: ServeContextOptions): Promise<ServeHost> {
  const index = o.index ?? new SubsonicIndex(o.db, o.remote.url);
  const intervalMs = o.intervalMs ?? REFRESH_INTERVAL_MS;
  const now = o.now ?? Date.now;
  const gate: CatalogGate = o.gate ?? ((fn) => fn());
  const stop = new AbortController();
  let lastRead = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<void> | undefined;
  /** A large index update (see refreshAside) under way or waiting at the gate. */
  let indexing: Promise<void> | undefined;
  /** Another reindex was asked while one ran. */
  let again = false;
  let closed = false;
  o.signal?.addEventListener('abort', () => stop.abort(), { once: true });
  await mkdir(o.coversDir, { recursive: true }).catch((err: unknown) => o.log.warn(`covers folder ${o.coversDir}: ${describe(err)}`));

  const updated = (changed: number, onWorker: boolean): void => {
    if (changed > 0) o.log.debug({ changed, onWorker }, 'subsonic index updated');
    // A worker's garbage went with its heap.
    if (!onWorker && changed >= SETTLE_AFTER_SONGS) o.settle?.();
  };

  const reindex = (): Promise<void> => {
    if (closed) return Promise.resolve();
    if (indexing) {
      again = true;
      return indexing;
    }
    let large: Promise<void> | undefined;
    try {
      if (!index.largeRefreshDue()) {
        const { changed } = index.refresh();
        updated(changed, false);
        return Promise.resolve();
      }
      // Through the gate: a run of the service must not contend with it for the state's write lock.
      large = gate(async () => {
        if (closed) return;
        try {
          // A first build the open waits for runs on this thread, a step at a time: a worker's heap would
          // add to the peak of the first start, and nothing else needs this thread's time before it listens.
          const { changed, onWorker } = await index.refreshAside(stop.signal, { worker: o.background === true || index.built() });
          updated(changed, onWorker);
        } catch (err) {
          if (!stop.signal.aborted) o.log.warn(`subsonic index not updated: ${describe(err)}`);
        }
      });
    } catch (err) {
      o.log.warn(`subsonic index not updated: ${describe(err)}`);
      return Promise.resolve();
    }
    // Put off (a run under way): the run's end calls reindex again.
    if (!large) return Promise.resolve();
    const settled: Promise<void> = large
      // The gate refused (the service is stopping): the index is served as it is.
      .catch((err: unknown) => o.log.debug(`the subsonic index not updated now: ${describe(err)}`))
      .finally(() => {
        indexing = undefined;
        if (again && !closed) {
          again = false;
          void reindex();
        }
      });
    indexing = settled;
    return settled;
  };

  const readCatalog = async (): Promise<void> => {
    const problems: Problem[] = [];
    try {
      // Read-only: what this state has pending is published by its owner (a run, or the route that wrote it).
      await o.catalog.refresh({ full: false, problems, signal: stop.signal, readOnly: true, ...(o.settle ? { settle: o.settle } : {}) });
    } catch (err) {
      if (!stop.signal.aborted) o.log.warn(`the remote catalog could not be read: ${describe(err)}`);
    }
    for (const p of problems) o.log.warn({ path: p.path }, p.message);
  };

  let first = true;
  const step = async (): Promise<void> => {
    lastRead = now();
    try {
      await gate(readCatalog);
      // The first read may have folded a snapshot or listed the whole remote: its garbage goes before the index is built.
      if (first) o.settle?.();
      first = false;
    } catch (err) {
      // The gate refused (the service is stopping): the index is served as it is.
      o.log.debug(`the remote catalog not read: ${describe(err)}`);
    }
    // Not awaited: requests waiting for this read are answered from the index as committed meanwhile.
    if (!closed) void reindex();
  };

  const host: ServeHost = {
    db: o.db,
    remote: o.remote,
    catalog: o.catalog,
    index,
    ...(o.library !== undefined ? { library: o.library } : {}),
    crewUser: o.crewUser,
    coversDir: o.coversDir,
    log: o.log,
    refresh: () => {
      // While a large update runs, the catalog is not read: its writes would contend with the update's.
      if (closed || indexing) return Promise.resolve();
      if (inFlight) return inFlight;
      if (now() - lastRead < intervalMs) {
        // The catalog was read a moment ago; what this server wrote since (stars, playlists) is in the mirror.
        void reindex();
        return Promise.resolve();
      }
      inFlight = step().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    reindex,
    close: async () => {
      closed = true;
      stop.abort();
      await inFlight;
      await indexing;
    },
  };
  await host.refresh();
  if (!o.background) await indexing;
  return host;
}
