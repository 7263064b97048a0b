/**
 * The service's lane for media players: taking in what the attached players
 * changed and publishing their metadata and playlists, beside the main loop
 * rather than in turn with it. A rating edit must reach the catalog within
 * seconds even while the main loop is in a long run (the start's full scan,
 * an album being uploaded); the lane's work is small and touches no library
 * file, and the catalog serialises its log writes, so the two may overlap.
 * The lane is serial in itself: one intake-and-publish at a time.
 */
import type { Logger } from './logger.js';
import type { LibrarySession } from '../sync/library-session.js';
import type { Remote } from '../remote/remote.js';
import type { ServiceEventBody } from './service-events.js';
import { PlayerFeed } from './player-feed.js';
import { PlayerState } from '../state/player-state.js';
import { takeIntake } from '../player/player-intake.js';
import { pushPlayers } from '../sync/player-push.js';
import { describe } from '../errors.js';

/** After the lane itself failed (the state database?), it waits this long before looking again. */
const FAILED_RETRY_MS = 5_000;

export interface PlayerLaneOptions {
  session: LibrarySession;
  remote: Remote;
  /** Who publishes the playlists (`playlists/<user>/`). */
  user: string;
  log: Logger;
  /** Something for the status's errors (a failing player, a playlist not published). */
  onError: (path: string, message: string) => void;
  emit: (e: ServiceEventBody) => void;
  /** Library paths the players added, moved or removed: files for the main loop's queue. */
  onPaths: (paths: string[]) => void;
  /** True while the service holds its work back (paused, the library folder missing). */
  held: () => boolean;
  /** How often the players' files are looked at, and their triggers checked (tests shorten them). */
  pollMs?: number;
  checkMs?: number;
}

export class PlayerLane {
  private readonly feed: PlayerFeed;
  private readonly state: PlayerState;
  /** Songs' metadata waits for their files to be sent: published again once a run has sent some. */
  private waiting = false;
  private waitingDue = false;
  private stopping = false;
  private current: AbortController | undefined;
  private wake: (() => void) | undefined;
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly o: PlayerLaneOptions) {
    this.feed = new PlayerFeed(o.session.db, () => this.poke(), o.pollMs, o.checkMs);
    this.state = new PlayerState(o.session.db);
  }

  start(): void {
    this.feed.start();
    this.done = this.loop();
  }

  /** stop ends the lane: what is under way is aborted (what it recorded stays pending for the next publish). */
  async stop(): Promise<void> {
    this.stopping = true;
    this.feed.stop();
    this.current?.abort();
    this.poke();
    await this.done;
  }

  /** pause stops what is under way; the lane waits until held() turns false and poke() is called. */
  pause(): void {
    this.current?.abort();
  }

  /** Every player is checked and taken in at the lane's next turn (a rescan). */
  checkAll(): void {
    this.feed.checkAll();
  }

  /** A run sent files: metadata waiting for them is published at the lane's next turn. */
  filesSent(): void {
    if (!this.waiting) return;
    this.waitingDue = true;
    this.poke();
  }

  /** poke wakes the lane to look at what is due. */
  poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.o.held() || !(this.feed.pending || this.waitingDue)) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        continue;
      }
      try {
        await this.turn();
      } catch (err) {
        this.o.log.error({ err }, 'the players could not be taken in');
        this.o.onError('(players)', describe(err));
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, FAILED_RETRY_MS);
          this.wake = () => (clearTimeout(t), resolve());
        });
      }
    }
  }

  /**
   * turn takes in what the players changed (checking their triggers when a
   * check is due): their files go to the main loop's queue like the
   * watcher's, and their metadata and playlists are published at once.
   */
  private async turn(): Promise<void> {
    const due = this.feed.take();
    const waitingDue = this.waitingDue;
    this.waitingDue = false;
    const { session } = this.o;
    const intakes = await takeIntake(session.db, session.root, { check: due.check, ...(due.check ? {} : { names: due.names }) });
    const paths = new Set<string>();
    for (const i of intakes) {
      for (const p of i.paths) paths.add(p);
      if (i.repaired) this.o.log.warn({ player: i.player }, i.repaired);
      const failed = i.problems.find((p) => p.path === this.state.get(i.player)?.dbPath);
      if (failed) this.o.onError(`(${i.player})`, failed.message);
      if (i.songs + i.playlists > 0 || i.repaired || failed) {
        this.o.emit({ type: 'player', player: i.player, songs: i.songs, playlists: i.playlists, ...(i.repaired ? { repaired: i.repaired } : {}), ...(failed ? { error: failed.message } : {}) });
      }
    }
    if (paths.size > 0) this.o.onPaths([...paths]);
    if (intakes.some((i) => i.songs + i.playlists > 0) || waitingDue) await this.publish();
  }

  /** publish sends the players' metadata and playlists; a failure is logged, and tried again after the next change or run. */
  private async publish(): Promise<void> {
    const ac = new AbortController();
    this.current = ac;
    try {
      const r = await pushPlayers(this.o.session, this.o.remote, this.o.user, ac.signal);
      this.waiting = r.waiting > 0;
      for (const p of r.problems) this.o.onError(p.path, p.message);
      const now = Date.now();
      for (const p of this.state.list()) this.state.update(p.name, { lastSync: now });
      if (r.meta + r.playlistsPut + r.playlistsRemoved > 0) {
        this.o.log.info({ meta: r.meta, waiting: r.waiting, playlistsPut: r.playlistsPut, playlistsRemoved: r.playlistsRemoved }, 'players published');
      }
    } catch (err) {
      this.waiting = true;
      // Stopped by a pause: published again once the lane goes on.
      if (ac.signal.aborted) return void (this.waitingDue = true);
      this.o.log.warn({ err: describe(err) }, 'the players could not be published');
      this.o.onError('(players)', describe(err));
    } finally {
      this.current = undefined;
    }
  }
}
