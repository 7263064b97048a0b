/**
 * The service's events: what the control API streams (Server-Sent Events and
 * long-poll), what the CLI follows while the service does its run, and what
 * the dashboard draws. Like Syncthing's, each has an id one more than the one
 * before (ids start at 1 each time the service starts) and a type; a run's
 * own events (sync/events.ts) travel inside `run` events unchanged.
 */
import type { RunEvent } from '../sync/events.js';
import type { RunSummary } from '../sync/run-summary.js';

/** What the service is doing, for people: `error` and `paused` come with a reason. */
export type ServiceState = 'idle' | 'scanning' | 'syncing' | 'paused' | 'error';

export type ServiceEventBody =
  | { type: 'state'; state: ServiceState; reason?: string }
  /** The queue changed: its length now. */
  | { type: 'queue'; length: number; failing: number }
  | { type: 'run'; event: JsonRunEvent }
  /** A run ended: its summary, or why it did not happen (`stopped` when paused or stopped). */
  | { type: 'run-result'; runId: string; summary?: RunSummary; error?: string }
  /** The watcher could not do all it should (watch limit, overflow): periodic scans stand in. */
  | { type: 'watcher'; state: 'watching' | 'polling' | 'off'; warning?: string }
  | { type: 'config'; file: string }
  /** A player's changes were taken in and published, or its check repaired something (`repaired`), or it failed (`error`). */
  | { type: 'player'; player: string; songs: number; playlists: number; repaired?: string; error?: string }
  | { type: 'stopping' };

/** A run event as it travels as JSON: a failure's `cause` is not sent. */
export type JsonRunEvent = RunEvent extends infer E ? (E extends { type: 'action-failed' } ? Omit<E, 'cause'> : E) : never;

export type ServiceEvent = ServiceEventBody & { id: number; at: number };
