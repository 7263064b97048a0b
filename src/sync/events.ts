/**
 * The events of a run, typed: what the CLI's progress display, the service's
 * event stream and the dashboard all consume. Every event carries the run's
 * id, a sequence number (1, 2, 3… within the run, no gaps) and the time it
 * was emitted; an action's events name it by its id (its index in the plan).
 *
 * Listeners are called synchronously, in order; one that throws is cut off
 * from the rest of the run and never fails a transfer (see {@link RunEmitter}).
 */
import { randomBytes } from 'node:crypto';
import type { Action, Direction } from './plan.js';
import type { Problem } from '../core/problem.js';

export type Phase = 'scan' | 'list' | 'compare' | 'transfer' | 'trash';

/** Where a problem was met. */
export type ProblemSource = 'scan' | 'hash' | 'catalog' | 'listing' | 'names' | 'publish' | 'transfer';

/** Totals of a run as it ended, for `run-ended`. */
export interface RunTotals {
  /** Actions carried out, by kind. */
  done: number;
  failed: number;
  /** Bytes moved over the network. */
  bytes: number;
  problems: number;
  /** The run was stopped (signal) before it was through. */
  interrupted: boolean;
  /** The error that stopped the run, when one did. */
  fatal?: string;
}

export type RunEventBody =
  | { type: 'run-started'; direction: Direction; root: string; remote: string; dryRun: boolean; scoped: boolean }
  | { type: 'phase'; phase: Phase }
  | { type: 'planned'; files: number; bytes: number; actions: number }
  | { type: 'action-started'; id: number; action: Action }
  /** Bytes moved since the last progress event of this action; negative when a failed attempt's bytes are taken back. */
  | { type: 'action-progress'; id: number; bytes: number }
  | { type: 'action-finished'; id: number; action: Action }
  | { type: 'action-failed'; id: number; action: Action; error: string; cause: unknown }
  | { type: 'action-retrying'; id: number; action: Action; error: string; attempt: number; delayMs: number }
  | { type: 'problem'; source: ProblemSource; problem: Problem }
  | { type: 'run-ended'; totals: RunTotals; elapsedMs: number };

export type RunEvent = RunEventBody & {
  runId: string;
  /** 1 for the run's first event, then one more for each. */
  seq: number;
  /** ms since the epoch. */
  at: number;
};

export type RunEventType = RunEvent['type'];

/** Something that hears a run's events. */
export type RunListener = (e: RunEvent) => void;

/**
 * RunEmitter numbers and stamps one run's events and hands them to its
 * listeners. A listener that throws is removed and its error kept (see
 * {@link listenerErrors}): a broken display must not stop a sync.
 */
export class RunEmitter {
  readonly runId: string;
  private seq = 0;
  private readonly listeners: RunListener[];
  readonly listenerErrors: unknown[] = [];

  constructor(listeners: readonly RunListener[] = [], runId = newRunId()) {
    this.runId = runId;
    this.listeners = [...listeners];
  }

  emit(body: RunEventBody): void {
    const e = { ...body, runId: this.runId, seq: ++this.seq, at: Date.now() } as RunEvent;
    for (let i = 0; i < this.listeners.length; i++) {
      try {
        this.listeners[i]?.(e);
      } catch (err) {
        this.listenerErrors.push(err);
        this.listeners.splice(i--, 1);
      }
    }
  }

  /** problem emits a problem met at `source`. */
  problem(source: ProblemSource, problem: Problem): void {
    this.emit({ type: 'problem', source, problem });
  }
}

/** newRunId makes a short id that sorts by time: `20261129T215800-1a2b3c`. */
export function newRunId(now = new Date()): string {
  return `${now.toISOString().slice(0, 19).replace(/[-:]/g, '')}-${randomBytes(3).toString('hex')}`;
}
