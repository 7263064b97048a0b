/**
 * RunTracker follows the events of the run under way and keeps what the
 * service's status shows of it: phase, files and bytes done of the total,
 * the transfers in flight with their own bytes, and the last errors.
 */
import type { RunEvent } from '../sync/events.js';
import type { Direction } from '../sync/plan.js';
import type { ServiceError, ServiceStatus, TransferStatus } from './control.js';
import { isTransfer } from '../sync/action-kinds.js';

/** How many errors the status keeps. */
const KEEP_ERRORS = 20;

export class RunTracker {
  private run: (NonNullable<ServiceStatus['run']> & { live: Map<number, TransferStatus> }) | undefined;
  readonly errors: ServiceError[] = [];

  /** start begins following run `runId`. */
  start(runId: string, direction: Direction): void {
    this.run = { runId, direction, phase: 'scan', files: { done: 0, total: 0 }, bytes: { done: 0, total: 0 }, transfers: [], live: new Map() };
  }

  /** end stops following the run. */
  end(): void {
    this.run = undefined;
  }

  /** error keeps a failure for the status, newest first. */
  error(path: string, reason: string, at = Date.now()): void {
    this.errors.unshift({ at, path, reason });
    if (this.errors.length > KEEP_ERRORS) this.errors.length = KEEP_ERRORS;
  }

  /** hear takes one event of the run. */
  hear(e: RunEvent): void {
    const r = this.run;
    if (!r || e.runId !== r.runId) return;
    switch (e.type) {
      case 'phase':
        r.phase = e.phase;
        break;
      case 'planned':
        r.files.total = e.files;
        r.bytes.total = e.bytes;
        break;
      case 'action-started':
        if (isTransfer(e.action)) r.live.set(e.id, { id: e.id, kind: e.action.kind, path: e.action.path, bytes: 0, size: e.action.size });
        break;
      case 'action-progress': {
        const t = r.live.get(e.id);
        if (t) t.bytes += e.bytes;
        r.bytes.done += e.bytes;
        break;
      }
      case 'action-finished':
      case 'action-failed':
        if (r.live.delete(e.id)) r.files.done++;
        if (e.type === 'action-failed') this.error(e.action.path, e.error, e.at);
        break;
      case 'problem':
        this.error(e.problem.path, e.problem.message, e.at);
        break;
      default:
        break;
    }
  }

  /** status is the run's part of the service status, or undefined between runs. */
  status(): ServiceStatus['run'] {
    const r = this.run;
    if (!r) return undefined;
    return { runId: r.runId, direction: r.direction, phase: r.phase, files: { ...r.files }, bytes: { ...r.bytes }, transfers: [...r.live.values()].map((t) => ({ ...t })) };
  }
}
