/**
 * The cratesync service: a scheduler and a durable queue in front of the
 * engine that push, pull and sync use (sync/engine.ts). It holds one library
 * session for its whole life; a watcher's changes wait out a quiet period in
 * the change aggregator, go to the queue (SQLite, state/work-queue.ts), and
 * are carried out as scoped runs; a full run reconciles at start and every
 * rescan interval; in sync mode the remote catalog is read every pull
 * interval. One run at a time, and every run's events go to the event log
 * that the control API streams.
 *
 * Safety: before each run the library folder is checked again: missing, or
 * empty when it was synced before (an unmounted drive), puts the service in
 * state `error` and nothing is sent until it is back; so does a run refused
 * by the delete limit. The service resumes by itself once the cause is gone.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Remote } from '../remote/remote.js';
import type { PathFilter, FilterOptions } from '../library/filter.js';
import type { LibrarySession } from '../sync/library-session.js';
import type { Direction } from '../sync/plan.js';
import type { RunEvent } from '../sync/events.js';
import type { DeleteLimit } from '../sync/delete-limit.js';
import type { RunAccepted, RunRequest, ServiceControl, ServiceStatus } from './control.js';
import type { JsonRunEvent, ServiceState } from './service-events.js';
import { makeFilter } from '../library/filter.js';
import { runSync, SCOPE_LIMIT, type SyncResult } from '../sync/engine.js';
import { newRunId } from '../sync/events.js';
import { parseMaxDelete } from '../sync/delete-limit.js';
import { summarize } from '../sync/run-summary.js';
import { WorkQueue, WHOLE_LIBRARY, type QueuedPath } from '../state/work-queue.js';
import { MUSIC_PREFIX } from '../sync/layout.js';
import { CratesyncError, describe, SafetyError, UsageError } from '../errors.js';
import { EventLog } from './event-log.js';
import { ChangeAggregator, type AggregatorOptions } from './change-aggregator.js';
import { OwnWrites } from './own-writes.js';
import { RunTracker } from './run-tracker.js';
import type { watchLibrary } from './library-watcher.js';
import { LibraryFeed } from './library-feed.js';
import { UploadNotifier } from './upload-notifier.js';
import { notifyUploads, uploadedPaths } from '../share/notify.js';
import { checkUserName, registerMachine, thisMachine } from '../share/user-registry.js';
import { PlayerLane } from './player-lane.js';
import { PlayerState } from '../state/player-state.js';
import { pullPlaylists } from '../share/playlist-pull.js';
import type { Problem } from '../core/problem.js';
import type { LibraryOverview } from './control.js';
import { ActivityLog, type ActivityPage, type ActivityQuery } from '../state/activity-log.js';
import { ActivityRecorder, type RestoredFile, type Throughput } from './activity-recorder.js';
import { libraryOverview } from './library-overview.js';
import type { ControlsHost } from './controls-host.js';
import type { HostedSubsonic, ServeSettings } from './subsonic-host.js';
import type { CatalogGate } from '../subsonic/serve-context.js';

/** What the config file sets for the service; reread by reload(). */
export interface ServiceSettings {
  filter: FilterOptions;
  transfers: number;
  mode: 'push' | 'sync';
  delete: boolean;
  maxDelete: DeleteLimit;
  pullIntervalMs: number;
  rescanIntervalMs: number;
  /** A changed file is sent once it has been still this long. */
  quietMs: number;
  /** The webhook told of uploads (config notify.webhook, or CRATESYNC_WEBHOOK); a secret, never logged whole. */
  webhook?: string;
  /** Why the webhook setting was not taken (said as a warning). */
  webhookProblem?: string;
  /** The Subsonic server to run beside the syncing (config `serve.enabled`); none when absent. */
  serve?: ServeSettings;
}

export const DEFAULT_SETTINGS = {
  /** Files sent at once, as for push. */
  transfers: 16,
  pullIntervalMs: 5 * 60_000,
  rescanIntervalMs: 60 * 60_000,
  quietMs: 1000,
} as const;

/** Deletes wait longer than changes: the other half of a move is seen first. */
const DELETE_DELAY_FACTOR = 2.5;
/** How often a missing library folder is looked for again. */
const ROOT_POLL_MS = 2000;
/** The retry of a run refused as a whole (delete limit, remote unreachable): doubling from this. */
const FATAL_RETRY_MS = 5000;
const FATAL_RETRY_MAX_MS = 5 * 60_000;
/** How long a stop waits for the run under way before it closes the remote's connections. */
const STOP_GRACE_MS = 3000;
/** Without a watcher, the whole library is rescanned at least this often. */
const POLL_RESCAN_MS = 60_000;
/** Uploads are told to the webhook at most this often. */
const NOTIFY_INTERVAL_MS = 60_000;

export interface ServiceOptions {
  /** Opened for writing; the service owns it (and closes it when it stops). */
  session: LibrarySession;
  /** The service owns it too. */
  remote: Remote;
  configFile: string;
  version: string;
  settings: ServiceSettings;
  /** Reads the config file again; throws ConfigError when it is invalid. */
  loadSettings: () => Promise<ServiceSettings>;
  log: Logger;
  /** The watcher (tests may give another). */
  watch?: typeof watchLibrary;
  /** Called when a full run has ended: the process's memory policy may collect what it left behind. */
  afterFullRun?: () => void;
  /** Who this machine writes as: with it, each full run that pushed registers the machine in the users registry. */
  user?: string;
  /** Sends upload notifications (tests give their own). */
  notify?: typeof notifyUploads;
}

/** A run asked for by a client, waiting for its turn. */
interface Requested {
  runId: string;
  req: RunRequest;
}

export class Service implements ServiceControl {
  readonly events = new EventLog();
  private settings: ServiceSettings;
  private filter: PathFilter;
  private readonly queue: WorkQueue;
  private readonly aggregator: ChangeAggregator;
  private readonly own = new OwnWrites();
  private readonly tracker = new RunTracker();
  private readonly startedAt = Date.now();
  private readonly feed: LibraryFeed;
  private state: ServiceState = 'idle';
  private reason: string | undefined;
  private paused = false;
  /** Why runs are held back (library missing, delete limit, remote unreachable), and when to try again. */
  private blocked: { reason: string; retryAt: number; attempts: number; rootGone: boolean } | undefined;
  private stopping = false;
  private current: AbortController | undefined;
  private readonly requests: Requested[] = [];
  private fullDue = true;
  private lastFullAt = 0;
  private nextPullAt = 0;
  private wake: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private stopped: Promise<void> | undefined;
  private readonly whenStopped = withResolvers();
  private readonly totals: ServiceStatus['totals'] = { runs: 0, uploaded: 0, downloaded: 0, moved: 0, trashed: 0, failed: 0, bytes: 0 };
  private lastSyncAt: number | undefined;
  private readonly notifier: UploadNotifier;
  private readonly players: PlayerLane;
  private readonly playerState: PlayerState;
  private readonly activityLog: ActivityLog;
  private readonly recorder: ActivityRecorder;
  /** Work that must not overlap a run (dashboard restores, conflict choices): carried out by the loop between runs. */
  private readonly tasks: Array<{ fn: () => Promise<unknown>; resolve: (v: unknown) => void; reject: (e: unknown) => void }> = [];
  private host: ControlsHost | undefined;
  /** The Subsonic server, while it serves. */
  private hosted: HostedSubsonic | undefined;
  /** The settings it was started with (JSON), to tell a reload that changes them. */
  private hostedWith: string | undefined;
  private subsonic: ServiceStatus['subsonic'];
  /** Starts and stops of the server, one after the other. */
  private serving: Promise<void> = Promise.resolve();

  private constructor(private readonly o: ServiceOptions) {
    this.settings = o.settings;
    this.notifier = new UploadNotifier({
      intervalMs: NOTIFY_INTERVAL_MS,
      send: async (paths) => {
        const url = this.settings.webhook;
        if (url) await (o.notify ?? notifyUploads)(url, { who: o.session.writer, paths });
      },
      onError: (err) => o.log.warn(describe(err)),
    });
    this.filter = makeFilter(o.settings.filter);
    this.queue = new WorkQueue(o.session.db);
    this.players = new PlayerLane({
      session: o.session,
      remote: o.remote,
      user: o.user ?? o.session.writer.slice(0, o.session.writer.lastIndexOf('@')),
      log: o.log,
      onError: (path, message) => this.tracker.error(path, message),
      emit: (e) => this.events.emit(e),
      onPaths: (paths) => {
        this.queue.add(paths, 'player', Date.now());
        this.emitQueue();
        this.poke();
      },
      held: () => this.paused || this.stopping || this.blocked?.rootGone === true,
    });
    this.playerState = new PlayerState(o.session.db);
    // The history must never stop a run or the service: a batch it cannot write is said and dropped.
    this.activityLog = new ActivityLog(o.session.db, { onError: (err) => o.log.warn(`activity history not written: ${describe(err)}`) });
    this.recorder = new ActivityRecorder(this.activityLog);
    this.aggregator = new ChangeAggregator(aggregatorOptions(o.settings));
    this.feed = new LibraryFeed({
      root: o.session.root,
      aggregator: this.aggregator,
      own: this.own,
      log: o.log,
      onChange: () => this.poke(),
      onRescan: () => {
        this.fullDue = true;
        this.poke();
      },
      onWatcher: (w) => this.events.emit({ type: 'watcher', ...w }),
      ...(o.watch ? { watch: o.watch } : {}),
    });
  }

  /**
   * start watches the library and starts the loop; the first run is a full
   * one, which carries out what changed while no service ran and what the
   * queue kept from the last one.
   */
  static async start(o: ServiceOptions): Promise<Service> {
    const s = new Service(o);
    if (o.settings.webhookProblem) o.log.warn(o.settings.webhookProblem);
    await s.feed.subscribe();
    s.players.start();
    s.emitQueue();
    s.loopDone = s.loop();
    // In the background: building the index of a large catalog must not hold the syncing back.
    void s.applyServe();
    return s;
  }

  get log(): Logger {
    return this.o.log;
  }

  // ---- control ----

  status(): ServiceStatus {
    const q = this.queue.counts();
    const run = this.tracker.status();
    return {
      state: this.state,
      ...(this.reason ? { reason: this.reason } : {}),
      pid: process.pid,
      version: this.o.version,
      startedAt: this.startedAt,
      configFile: this.o.configFile,
      library: this.o.session.root,
      remote: this.o.remote.url,
      mode: this.settings.mode,
      queue: {
        length: q.length + this.aggregator.size,
        failing: q.failing,
        failures: this.queue.failing(20).map((f) => ({ path: f.path, reason: f.lastError ?? '', attempts: f.attempts, retryAt: f.dueAt })),
      },
      ...(run ? { run } : {}),
      lastErrors: [...this.tracker.errors],
      totals: { ...this.totals },
      ...(this.lastSyncAt !== undefined ? { lastSyncAt: this.lastSyncAt } : {}),
      watcher: this.feed.status,
      ...(this.subsonic ? { subsonic: { ...this.subsonic } } : {}),
      players: this.playerState.list().map((p) => ({
        name: p.name,
        database: p.dbPath,
        health: p.health,
        ...(p.note !== undefined ? { note: p.note } : {}),
        songs: this.playerState.songCount(p.name),
        ...(p.lastChange !== undefined ? { lastChange: p.lastChange } : {}),
        ...(p.lastSync !== undefined ? { lastSync: p.lastSync } : {}),
        problems: p.problems.length,
        firstProblems: p.problems.slice(0, 5),
      })),
    };
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.log.info('paused');
    // The run under way stops; what it did not carry out stays queued.
    this.current?.abort();
    this.players.pause();
    this.refreshState();
    this.poke();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.log.info('resumed');
    this.refreshState();
    this.poke();
    this.players.poke();
  }

  rescan(): void {
    this.fullDue = true;
    this.players.checkAll();
    if (this.blocked) this.blocked.retryAt = 0;
    this.log.info('full rescan asked for');
    this.poke();
  }

  async reload(): Promise<void> {
    const next = await this.o.loadSettings();
    this.settings = next;
    this.filter = makeFilter(next.filter);
    this.aggregator.configure(aggregatorOptions(next));
    if (next.webhookProblem) this.log.warn(next.webhookProblem);
    this.nextPullAt = Math.min(this.nextPullAt, Date.now() + next.pullIntervalMs);
    this.events.emit({ type: 'config', file: this.o.configFile });
    this.log.info({ mode: next.mode, transfers: next.transfers, delete: next.delete }, 'config reloaded');
    this.poke();
    void this.applyServe();
  }

  run(req: RunRequest): RunAccepted {
    if (this.stopping) throw new CratesyncError('the service is stopping');
    if (this.blocked?.rootGone) throw new CratesyncError(`the service cannot run now: ${this.blocked.reason}`);
    if (req.maxDelete !== undefined) parseMaxDelete(req.maxDelete);
    const runId = newRunId();
    const since = this.events.lastId;
    this.requests.push({ runId, req });
    this.poke();
    return { runId, since };
  }

  stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = this.shutdown();
      void this.stopped.then(this.whenStopped.resolve, this.whenStopped.resolve);
    }
    return this.stopped;
  }

  /** The library, remote and loop for the dashboard's control routes (see ControlsHost). */
  get controls(): ControlsHost {
    this.host ??= {
      session: this.o.session,
      remote: this.o.remote,
      configFile: this.o.configFile,
      exclusive: <T>(fn: () => Promise<T>) =>
        new Promise<T>((resolve, reject) => {
          if (this.stopping) throw new CratesyncError('the service is stopping');
          this.tasks.push({ fn, resolve: resolve as (v: unknown) => void, reject });
          this.poke();
        }),
      restored: (side, paths) => this.recordRestored(side, paths.map((p) => ({ path: side === 'remote' && p.startsWith(MUSIC_PREFIX) ? p.slice(MUSIC_PREFIX.length) : p }))),
      enqueue: (paths) => {
        if (paths.length === 0) return;
        this.queue.add([...paths], 'api', Date.now());
        this.emitQueue();
        this.poke();
      },
      problem: (path, message) => this.tracker.error(path, message),
    };
    return this.host;
  }

  /** done resolves once the service has stopped (by stop(), from any client). */
  get done(): Promise<void> {
    return this.whenStopped.promise;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    this.log.info('stopping');
    this.events.emit({ type: 'stopping' });
    this.current?.abort();
    for (const t of this.tasks.splice(0)) t.reject(new CratesyncError('the service is stopping'));
    this.poke();
    // Apps are let go first: nothing they ask may reach the session once it closes.
    await this.applyServe();
    await this.players.stop();
    await this.feed.close();
    // A request the server does not answer would hold the stop until its
    // timeout: past a grace period the remote's connections are closed, which
    // fails what is in flight at once (and nothing was recorded of it).
    if (!(await settledWithin(this.loopDone, STOP_GRACE_MS))) {
      this.log.warn('transfers in flight did not end: abandoning them');
      await this.o.remote.close();
      if (!(await settledWithin(this.loopDone, STOP_GRACE_MS))) {
        // The run still holds the session: it is left to the process's end, like a crash after its last commit.
        this.log.warn('stopped with a run unfinished');
        this.recorder.flush();
        await this.notifier.flush();
        return;
      }
    }
    // What was uploaded and not yet told is told now.
    await this.notifier.flush();
    this.recorder.flush();
    this.o.session.close();
    await this.o.remote.close();
    this.log.info('stopped');
  }

  activity(q: ActivityQuery): ActivityPage {
    return this.activityLog.query(q);
  }

  throughput(): Throughput {
    return this.recorder.throughput();
  }

  retry(paths?: readonly string[]): number {
    const n = this.queue.retryNow(paths);
    if (n === 0) return 0;
    this.log.info({ files: n }, 'retry asked for');
    // Held back by a failed run (not a missing library): the user's retry is the try.
    if (this.blocked && !this.blocked.rootGone) this.blocked.retryAt = 0;
    this.poke();
    return n;
  }

  library(): LibraryOverview {
    this.o.session.index.flush();
    const user = this.o.user ?? this.o.session.writer.slice(0, this.o.session.writer.lastIndexOf('@'));
    return libraryOverview({ db: this.o.session.db, remote: this.o.remote.url, user, activity: this.activityLog, players: this.status().players });
  }

  /** recordRestored adds files restored from the `side`'s trash (through the API) to the activity history. */
  recordRestored(side: 'remote' | 'local', files: readonly RestoredFile[]): void {
    this.recorder.restored(side, files);
  }

  // ---- the Subsonic server ----

  /**
   * applyServe starts, restarts or stops the Subsonic server as the settings
   * (and stopping) want it. A server that cannot start is said (log, status,
   * errors) and the service goes on syncing; a reload tries again.
   */
  private applyServe(): Promise<void> {
    this.serving = this.serving.then(() => this.switchServe());
    return this.serving;
  }

  private async switchServe(): Promise<void> {
    const want = this.stopping ? undefined : this.settings.serve;
    const key = want ? JSON.stringify(want) : undefined;
    if (key === this.hostedWith && (this.hosted || !want)) return;
    if (this.hosted) {
      const old = this.hosted;
      this.hosted = undefined;
      await old.close().catch((err: unknown) => this.log.warn(`subsonic server not closed cleanly: ${describe(err)}`));
      this.log.info('stopped serving to Subsonic apps');
    }
    this.hostedWith = key;
    this.subsonic = want ? { state: 'starting' } : undefined;
    if (!want) return;
    try {
      const { hostSubsonic } = await import('./subsonic-host.js');
      this.hosted = await hostSubsonic({ session: this.o.session, remote: this.o.remote, settings: want, log: this.log, gate: this.catalogGate, ...(this.o.afterFullRun ? { settle: this.o.afterFullRun } : {}) });
      this.subsonic = { state: 'serving', url: this.hosted.url };
    } catch (err) {
      this.hostedWith = undefined;
      this.subsonic = { state: 'error', error: describe(err) };
      this.log.error(`not serving to Subsonic apps: ${describe(err)}`);
      this.tracker.error('(subsonic)', describe(err));
    }
  }

  /**
   * The server's reads of the catalog go between runs (the loop's tasks),
   * never beside one; while a run is under way they are skipped: the run
   * reads the catalog itself, and the index follows it (execute).
   */
  private readonly catalogGate: CatalogGate = (refresh) => (this.current || this.stopping ? undefined : this.controls.exclusive(refresh));

  // ---- the loop ----

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private sleep(ms: number): Promise<void> {
    // A task queued while the step awaited (its poke found no sleep to end) is not slept over.
    if (this.tasks.length > 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, Math.max(0, Math.min(ms, 2 ** 31 - 1)));
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (err) {
        // A bug or the state database failing: said, and tried again a little later.
        this.log.error({ err }, 'service loop failed');
        this.tracker.error('(service)', describe(err));
        await this.sleep(FATAL_RETRY_MS);
      }
    }
  }

  private async step(): Promise<void> {
    this.drainAggregator();
    // Between runs, also while paused: each task checks for itself what it needs (the library folder).
    const task = this.tasks.shift();
    if (task) return task.fn().then(task.resolve, task.reject);
    if (this.paused) return this.sleep(60_000);
    if (!(await this.rootReady())) return this.sleep(ROOT_POLL_MS);
    // A run a client asks for goes ahead even while automatic runs are held back (it may lift the cause).
    const request = this.requests.shift();
    if (request) return this.runRequested(request);
    const now = Date.now();
    if (this.blocked && now < this.blocked.retryAt) return this.sleep(this.blocked.retryAt - now);
    if (this.fullDue || now >= this.rescanAt()) return this.runFull();
    const due = this.queue.due(now, SCOPE_LIMIT + 1);
    if (due.some((d) => d.path === WHOLE_LIBRARY) || due.length > SCOPE_LIMIT) return this.runFull();
    if (due.length > 0) return this.runScoped(due);
    if (this.settings.mode === 'sync' && now >= this.nextPullAt) return this.checkRemote();
    const next = [this.aggregator.nextDueAt(), this.queue.nextDueAt(), this.rescanAt(), this.settings.mode === 'sync' ? this.nextPullAt : undefined]
      .filter((t): t is number => t !== undefined)
      .reduce((a, b) => Math.min(a, b), now + 60_000);
    return this.sleep(next - now);
  }

  /** drainAggregator moves the changes whose quiet period is over into the durable queue. */
  private drainAggregator(): void {
    const due = this.aggregator.takeDue();
    if (due.length === 0) return;
    const paths: string[] = [];
    for (const c of due) {
      if (c.kind === 'rescan' || c.path === WHOLE_LIBRARY) this.fullDue = true;
      else paths.push(c.path);
    }
    this.queue.add(paths, 'watch', Date.now());
    this.emitQueue();
  }

  /**
   * rootReady checks the library folder before a run. While it is missing (or
   * empty after a sync: unmounted), the service is in error and sends nothing;
   * once it is back, the watcher is set up again and a full run follows.
   */
  private async rootReady(): Promise<boolean> {
    try {
      await this.o.session.checkRoot();
    } catch (err) {
      if (!(err instanceof SafetyError || err instanceof UsageError)) throw err;
      if (!this.blocked?.rootGone) this.log.error({ root: this.o.session.root }, describe(err));
      this.blocked = { reason: describe(err), retryAt: Date.now() + ROOT_POLL_MS, attempts: 0, rootGone: true };
      this.refreshState();
      return false;
    }
    if (this.blocked?.rootGone) {
      this.log.info({ root: this.o.session.root }, 'library folder is back');
      this.blocked = undefined;
      this.fullDue = true;
      await this.feed.subscribe();
      this.players.poke();
      this.refreshState();
    }
    return true;
  }

  /** rescanAt is when the next periodic full run is due: sooner while no watcher reports changes. */
  private rescanAt(): number {
    const every = this.feed.status.state === 'watching' ? this.settings.rescanIntervalMs : Math.min(this.settings.rescanIntervalMs, POLL_RESCAN_MS);
    return this.lastFullAt + every;
  }

  private async runFull(): Promise<void> {
    this.fullDue = false;
    this.lastFullAt = Date.now();
    // The run reads the whole library: what the watcher reported so far is in it.
    this.aggregator.clear();
    await this.execute({ direction: this.direction(), taken: this.queue.all(), full: false });
    this.o.afterFullRun?.();
  }

  /**
   * runScoped carries out due paths as one scoped run. A file changed less
   * than the quiet period ago (a write the watcher did not report) waits.
   */
  private async runScoped(due: QueuedPath[]): Promise<void> {
    const now = Date.now();
    const ready: QueuedPath[] = [];
    for (const d of due) {
      const st = await stat(join(this.o.session.root, ...d.path.split('/'))).catch(() => undefined);
      const since = st?.isFile() ? now - Math.min(st.mtimeMs, now) : Infinity;
      if (since < this.settings.quietMs) this.queue.postpone(d.path, now + this.settings.quietMs - since);
      else ready.push(d);
    }
    if (ready.length === 0) return;
    await this.execute({ direction: this.direction(), taken: ready, scope: ready.map((r) => r.path) });
  }

  private async runRequested({ runId, req }: Requested): Promise<void> {
    const filter = makeFilter({
      ...this.settings.filter,
      include: [...(this.settings.filter.include ?? []), ...(req.include ?? [])],
      exclude: [...(this.settings.filter.exclude ?? []), ...(req.exclude ?? [])],
      ...(req.paths ? { paths: req.paths } : {}),
    });
    // A push or sync covers the whole library: what the queue held is carried out with it.
    const taken = req.direction === 'pull' || req.include?.length || req.exclude?.length || req.paths ? [] : this.queue.all();
    await this.execute({
      direction: req.direction,
      taken,
      full: req.full === true,
      runId,
      filter,
      delete: req.delete ?? false,
      ...(req.maxDelete !== undefined ? { maxDelete: parseMaxDelete(req.maxDelete) } : {}),
      ...(req.transfers !== undefined ? { transfers: req.transfers } : {}),
    });
  }

  /** checkRemote reads the remote catalog (sync mode); other machines' changes start a sync run. */
  private async checkRemote(): Promise<void> {
    this.nextPullAt = Date.now() + this.settings.pullIntervalMs;
    const { catalog } = this.o.session.forRemote(this.o.remote);
    const ac = new AbortController();
    this.current = ac;
    let changed = false;
    try {
      const problems: Array<{ path: string; message: string }> = [];
      const view = await catalog.refresh({ full: false, problems, signal: ac.signal, readOnly: false });
      for (const p of problems) this.tracker.error(p.path, p.message);
      changed = view.listed || view.logsRead > 0;
    } catch (err) {
      if (ac.signal.aborted) return;
      this.log.warn({ err: describe(err) }, 'the remote catalog could not be read');
      this.tracker.error('(remote)', describe(err));
      return;
    } finally {
      this.current = undefined;
    }
    if (changed) {
      this.log.info('the remote changed: syncing');
      await this.execute({ direction: 'sync', taken: this.queue.all() });
    }
  }

  private direction(): Direction {
    return this.settings.mode === 'sync' ? 'sync' : 'push';
  }

  /**
   * execute carries out one run and settles the queue rows it took: done ones
   * removed, failed files queued again with their reason and a backoff. A run
   * refused as a whole keeps its rows and holds the service back (state
   * error) until its retry; a stopped one (pause, stop) keeps them as they were.
   */
  private async execute(k: {
    direction: Direction;
    taken: QueuedPath[];
    scope?: string[];
    full?: boolean;
    runId?: string;
    filter?: PathFilter;
    delete?: boolean;
    maxDelete?: DeleteLimit;
    transfers?: number;
  }): Promise<void> {
    const ac = new AbortController();
    this.current = ac;
    const runId = k.runId ?? newRunId();
    this.tracker.start(runId, k.direction);
    this.setState('scanning');
    let result: SyncResult | undefined;
    try {
      result = await runSync(this.o.session, {
        direction: k.direction,
        remote: this.o.remote,
        filter: k.filter ?? this.filter,
        delete: k.delete ?? this.settings.delete,
        maxDelete: k.maxDelete ?? this.settings.maxDelete,
        dryRun: false,
        transfers: k.transfers ?? this.settings.transfers,
        full: k.full ?? false,
        ...(k.scope ? { scope: k.scope } : {}),
        listeners: [(e) => this.hear(e)],
        signal: ac.signal,
        runId,
      });
    } catch (err) {
      if (ac.signal.aborted) {
        this.events.emit({ type: 'run-result', runId, error: 'stopped' });
        return;
      }
      if (k.runId) this.tracker.error('(run)', describe(err));
      else this.refused(k.taken, err);
      this.events.emit({ type: 'run-result', runId, error: describe(err) });
      return;
    } finally {
      this.current = undefined;
      this.tracker.end();
      // What the run brought into the catalog reaches the Subsonic index before apps ask.
      this.hosted?.afterRun();
      // A whole-library run of the service's own that was stopped (pause): what it did not carry out is in
      // no queue, so a full run is due again (held until resume).
      if (ac.signal.aborted && k.scope === undefined && k.runId === undefined) this.fullDue = true;
      this.refreshState();
    }
    // Before the run is told as ended: its client (and `service status`) sees it done with what follows it.
    if (k.direction !== 'pull' && k.scope === undefined && !result.exec?.fatal && !ac.signal.aborted) await this.register();
    const summary = summarize(k.direction, result);
    this.events.emit({ type: 'run-result', runId, summary });
    this.count(summary);
    if (this.settings.webhook) this.notifier.add(uploadedPaths(result));
    const fatal = result.exec?.fatal;
    if (fatal !== undefined && !ac.signal.aborted) {
      // A run a client asked for tells its client; only the service's own runs hold it back.
      if (!k.runId) this.refused(k.taken, fatal);
      return;
    }
    if (ac.signal.aborted) return;
    const failed = new Map<string, string>();
    for (const f of result.exec?.failed ?? []) failed.set(f.path, f.message);
    this.queue.settle(k.taken, failed);
    this.emitQueue();
    if (summary.tally.uploaded > 0) this.players.filesSent();
    if (k.direction !== 'push' && k.scope === undefined) await this.pullPlaylists(ac.signal);
    this.lastSyncAt = Date.now();
    if (this.blocked) {
      this.log.info('runs go through again');
      this.blocked = undefined;
    }
    this.refreshState();
    const t = summary.tally;
    this.log.info(
      { runId, direction: k.direction, scoped: result.scoped, uploaded: t.uploaded, downloaded: t.downloaded, moved: t.moved, trashed: t.trashed, failed: summary.failed, bytes: summary.bytes, ms: Math.round(summary.elapsedMs) },
      'run ended',
    );
  }

  /** pullPlaylists writes the remote's playlists of others into the library after a pull or sync; problems are the status's errors. */
  private async pullPlaylists(signal: AbortSignal): Promise<void> {
    const problems: Problem[] = [];
    const { session, remote } = this.o;
    try {
      const n = await pullPlaylists({ remote, catalog: session.forRemote(remote).catalog, db: session.db, root: session.root, self: session.writer }, problems, signal);
      if (n.written + n.removed > 0) this.log.info({ written: n.written, removed: n.removed }, 'playlists pulled');
    } catch (err) {
      if (!signal.aborted) problems.push({ path: '(playlists)', message: describe(err) });
    }
    for (const p of problems) this.tracker.error(p.path, p.message);
  }

  /** register adds or refreshes this machine in the users registry; a failure is a warning. */
  private async register(): Promise<void> {
    if (this.o.user === undefined) return;
    try {
      await registerMachine(this.o.remote, checkUserName(this.o.user), thisMachine(this.o.session, this.o.version));
    } catch (err) {
      this.log.warn(`users registry not updated: ${describe(err)}`);
    }
  }

  /** refused holds the service back after a run refused as a whole; its rows wait for the retry. */
  private refused(taken: readonly QueuedPath[], err: unknown): void {
    const reason = describe(err);
    this.queue.retryLater(taken, reason);
    this.emitQueue();
    const attempts = (this.blocked?.attempts ?? 0) + 1;
    this.blocked = { reason, retryAt: Date.now() + Math.min(FATAL_RETRY_MS * 2 ** (attempts - 1), FATAL_RETRY_MAX_MS), attempts, rootGone: false };
    this.tracker.error(err instanceof SafetyError ? '(library)' : '(remote)', reason);
    this.log.error({ attempts }, reason);
    // Whatever changes next may be what clears the cause: a full run sees it.
    this.fullDue = true;
    this.refreshState();
  }

  private count(s: ReturnType<typeof summarize>): void {
    const t = this.totals;
    t.runs++;
    t.uploaded += s.tally.uploaded;
    t.downloaded += s.tally.downloaded;
    t.moved += s.tally.moved;
    t.trashed += s.tally.trashed;
    t.failed += s.failed;
    t.bytes += s.bytes;
  }

  /** hear takes each event of the run under way: status, own writes, the event log. */
  private hear(e: RunEvent): void {
    this.tracker.hear(e);
    this.recorder.hear(e);
    if (e.type === 'phase') this.setState(e.phase === 'transfer' || e.phase === 'trash' ? 'syncing' : 'scanning');
    if (e.type === 'action-started' || e.type === 'action-finished' || e.type === 'action-failed') {
      // The library files a run writes (downloads, local moves, local trash) are not changes to send back.
      const a = e.action;
      const touched = a.kind === 'download' || a.kind === 'copy-local' || a.kind === 'trash-local' ? [a.path] : a.kind === 'move-local' ? [a.path, a.from] : a.kind === 'conflict' ? [a.path, a.conflictPath] : [];
      for (const p of touched) (e.type === 'action-started' ? this.own.begin(p) : this.own.end(p));
    }
    if (e.type === 'action-failed') this.log.warn({ path: e.action.path, runId: e.runId }, e.error);
    else if (e.type === 'problem') this.log.warn({ path: e.problem.path, source: e.source, runId: e.runId }, e.problem.message);
    this.events.emit({ type: 'run', event: toJson(e) });
  }

  // ---- state ----

  private setState(s: ServiceState, reason?: string): void {
    const next = this.paused ? 'paused' : this.blocked ? 'error' : s;
    const why = this.paused ? 'paused by the user' : this.blocked ? this.blocked.reason : reason;
    if (next === this.state && why === this.reason) return;
    this.state = next;
    this.reason = why;
    this.events.emit({ type: 'state', state: next, ...(why ? { reason: why } : {}) });
  }

  /** refreshState sets the state from pause, blocks and the run under way. */
  private refreshState(): void {
    const run = this.tracker.status();
    this.setState(run ? (run.phase === 'transfer' || run.phase === 'trash' ? 'syncing' : 'scanning') : 'idle');
  }

  private emitQueue(): void {
    const q = this.queue.counts();
    this.events.emit({ type: 'queue', length: q.length + this.aggregator.size, failing: q.failing });
  }
}

function aggregatorOptions(s: ServiceSettings): Partial<AggregatorOptions> {
  return { quietMs: s.quietMs, deleteDelayMs: Math.round(s.quietMs * DELETE_DELAY_FACTOR), maxPaths: SCOPE_LIMIT };
}

/** toJson drops what does not travel as JSON (a failure's cause). */
function toJson(e: RunEvent): JsonRunEvent {
  if (e.type !== 'action-failed') return e;
  const { cause: _cause, ...rest } = e;
  return rest;
}

/** settledWithin resolves true when `p` settles within `ms`, else false. */
function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(
      () => (clearTimeout(timer), resolve(true)),
      () => (clearTimeout(timer), resolve(true)),
    );
  });
}

/** withResolvers is Promise.withResolvers (Node 22) for Node 20. */
function withResolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
