/**
 * Noticing that an attached player changed something, for the service. A
 * player's own writes change its database file (SQLite in rollback-journal
 * mode rewrites pages of the file itself on every commit) or its XML files,
 * so the feed compares their size, mtime and inode every POLL_MS: a stat
 * per file, no lock on the player's database, nothing read from it. A
 * change (or a player attached since the last look) tells the service,
 * which then takes the player's queue. Every CHECK_MS the service also
 * checks the triggers (a player upgrade may have dropped them).
 */
import { stat } from 'node:fs/promises';
import type { Db } from '../state/state-db.js';
import { PlayerState } from '../state/player-state.js';
import { adapterOf } from '../player/adapters.js';

/** How often the players' files are looked at. */
export const POLL_MS = 500;
/** How often the triggers of every player are checked. */
export const CHECK_MS = 60_000;

export interface PlayersDue {
  /** Players whose files changed, or newly attached. */
  names: string[];
  /** Check the triggers too. */
  check: boolean;
}

export class PlayerFeed {
  private readonly seen = new Map<string, string>();
  private readonly changed = new Set<string>();
  private lastCheck = 0;
  private checkDue = true;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly db: Db,
    private readonly onChange: () => void,
    private readonly pollMs = POLL_MS,
    private readonly checkMs = CHECK_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.pollMs);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** True when a player is due to be taken in (see take). */
  get pending(): boolean {
    return this.changed.size > 0 || this.checkDue;
  }

  /** take returns the players due and forgets them (a change after this is due again). */
  take(now = Date.now()): PlayersDue {
    const due = { names: [...this.changed], check: this.checkDue };
    this.changed.clear();
    if (this.checkDue) {
      this.checkDue = false;
      this.lastCheck = now;
    }
    return due;
  }

  /** Asks for every player to be checked and taken in at the next step (service start, a rescan). */
  checkAll(): void {
    this.checkDue = true;
    this.onChange();
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const players = new PlayerState(this.db).list();
      let any = false;
      for (const p of players) {
        const a = adapterOf(p.name);
        const files = a.kind === 'xml' ? a.files(p.dbPath) : [p.dbPath];
        const sig = (await Promise.all(files.map((f) => stat(f).then((s) => `${s.size}:${s.mtimeMs}:${s.ino}`, () => '-')))).join(',');
        const before = this.seen.get(p.name);
        this.seen.set(p.name, sig);
        if (before !== sig) {
          this.changed.add(p.name);
          any = true;
        }
      }
      for (const name of this.seen.keys()) if (!players.some((p) => p.name === name)) this.seen.delete(name);
      if (players.length > 0 && Date.now() - this.lastCheck >= this.checkMs) this.checkDue = true;
      if (any || (this.checkDue && players.length > 0)) this.onChange();
    } catch {
      // The state database busy or closing: the next poll looks again.
    } finally {
      this.polling = false;
    }
  }
}
