/**
 * What a run tells the outside world as it goes: the CLI's progress display,
 * logs and, later, the service's event bus all implement this. Every method is
 * optional; the engine never waits on an observer.
 */
import type { Action } from './plan.js';
import type { Problem } from '../library/walk.js';

export type Phase = 'scan' | 'list' | 'compare' | 'transfer' | 'trash';

export interface RunObserver {
  phase?(phase: Phase): void;
  /** A file could not be scanned, listed or compared; the run goes on without it. */
  problem?(problem: Problem): void;
  /** The work ahead, once planned. */
  planned?(totals: { files: number; bytes: number }): void;
  started?(action: Action): void;
  /** Bytes moved since the last call; negative when a failed attempt's bytes are taken back. */
  progress?(bytes: number): void;
  finished?(action: Action): void;
  failed?(action: Action, error: unknown): void;
  retrying?(action: Action, error: unknown, attempt: number): void;
}
