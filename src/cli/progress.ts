/**
 * Progress for people. On a terminal: a few lines redrawn in place (files and
 * bytes done of total, rate, ETA, the files in flight). Elsewhere: one plain
 * line per finished file. Both write to stderr so stdout stays for results.
 */
import type { Phase, RunEvent, RunListener } from '../sync/events.js';
import type { Action } from '../sync/plan.js';
import { isTransfer } from '../sync/action-kinds.js';
import { formatBytes, formatCount, formatDuration, printable } from './format.js';
import { actionMark } from './describe-action.js';
import { ProblemDigest } from './problem-digest.js';

export interface Out {
  write(s: string): void;
  /**
   * Resolves once what was written has been taken: a pipe takes it only as
   * fast as its reader reads, and until then the writes wait in memory.
   */
  drained?(): Promise<void>;
  isTTY?: boolean;
  columns?: number;
}

/** What a display does with each kind of event (see {@link dispatch}); all optional. */
interface Handlers {
  phase?(phase: Phase): void;
  problem?(problem: { path: string; message: string }): void;
  planned?(totals: { files: number; bytes: number }): void;
  started?(action: Action): void;
  progress?(bytes: number): void;
  finished?(action: Action): void;
  failed?(action: Action, error: string): void;
  retrying?(action: Action, error: string, attempt: number): void;
}

/** A display: hears a run's events; can be closed (the TTY one clears its lines). */
export interface Display {
  readonly listener: RunListener;
  close(): void;
}

/** dispatch hands event `e` to the matching handler of `h`. */
function dispatch(h: Handlers, e: RunEvent): void {
  switch (e.type) {
    case 'phase':
      return h.phase?.(e.phase);
    case 'problem':
      return h.problem?.(e.problem);
    case 'planned':
      return h.planned?.(e);
    case 'action-started':
      return h.started?.(e.action);
    case 'action-progress':
      return h.progress?.(e.bytes);
    case 'action-finished':
      return h.finished?.(e.action);
    case 'action-failed':
      return h.failed?.(e.action, e.error);
    case 'action-retrying':
      return h.retrying?.(e.action, e.error, e.attempt);
    default:
      return;
  }
}

/** makeDisplay picks the terminal or the plain display; `quiet` (JSON mode) shows only problems. */
export function makeDisplay(out: Out, options: { quiet: boolean; verbose: boolean }): Display {
  if (options.quiet) {
    const digest = new ProblemDigest();
    const quiet: Handlers = {
      problem: (p) => {
        const l = digest.add(p);
        if (l) out.write(`${l}\n`);
      },
    };
    return { listener: (e) => dispatch(quiet, e), close: () => digest.summary().forEach((l) => out.write(`${l}\n`)) };
  }
  return out.isTTY ? new TtyDisplay(out, options.verbose) : new PlainDisplay(out, options.verbose);
}

class PlainDisplay implements Display, Handlers {
  readonly listener: RunListener = (e) => dispatch(this, e);
  constructor(
    private readonly out: Out,
    private readonly verbose: boolean,
  ) {}
  private readonly digest = new ProblemDigest();
  problem(p: { path: string; message: string }) {
    const l = this.digest.add(p);
    if (l) this.out.write(`${l}\n`);
  }
  finished(a: Action) {
    this.out.write(`${a.kind.padEnd(12)} ${printable(a.path)}${a.size ? ` (${formatBytes(a.size)})` : ''}\n`);
  }
  failed(a: Action, error: string) {
    this.out.write(`failed       ${printable(`${a.path}: ${error}`)}\n`);
  }
  retrying(a: Action, error: string, attempt: number) {
    if (this.verbose) this.out.write(`retry ${attempt}    ${printable(`${a.path}: ${error}`)}\n`);
  }
  close() {
    for (const l of this.digest.summary()) this.out.write(`${l}\n`);
  }
}

/**
 * The terminal display: the files and bytes done of the planned work, redrawn
 * in place. The work planned (see plannedWork) and the files counted done are
 * the same actions, the transfers, so "X/Y files" reaches Y.
 */
export class TtyDisplay implements Display, Handlers {
  readonly listener: RunListener = (e) => dispatch(this, e);
  private phaseName: Phase = 'scan';
  private files = 0;
  private bytes = 0;
  private doneFiles = 0;
  private doneBytes = 0;
  private failedFiles = 0;
  private readonly active = new Set<string>();
  private lines = 0;
  private readonly t0 = performance.now();
  private transferStart = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly notes: string[] = [];

  constructor(
    private readonly out: Out,
    private readonly verbose: boolean,
  ) {
    this.timer = setInterval(() => this.render(), 150);
    this.timer.unref();
  }

  phase(p: Phase) {
    this.phaseName = p;
    if (p === 'transfer') this.transferStart = performance.now();
  }
  planned(t: { files: number; bytes: number }) {
    this.files = t.files;
    this.bytes = t.bytes;
  }
  started(a: Action) {
    this.active.add(`${actionMark(a)} ${printable(a.path)}`);
  }
  progress(n: number) {
    this.doneBytes += n;
  }
  finished(a: Action) {
    this.active.delete(`${actionMark(a)} ${printable(a.path)}`);
    if (isTransfer(a)) this.doneFiles++;
  }
  failed(a: Action, error: string) {
    this.active.delete(`${actionMark(a)} ${printable(a.path)}`);
    this.failedFiles++;
    this.notes.push(printable(`failed: ${a.path}: ${error}`));
  }
  retrying(a: Action, error: string, attempt: number) {
    if (this.verbose) this.notes.push(printable(`retry ${attempt}: ${a.path}: ${error}`));
  }
  private readonly digest = new ProblemDigest();
  problem(p: { path: string; message: string }) {
    const l = this.digest.add(p);
    if (l) this.notes.push(l);
  }

  private render() {
    const width = Math.max(40, (this.out.columns ?? 80) - 1);
    let s = this.lines > 0 ? `\x1b[${this.lines}A\x1b[J` : '';
    for (const n of this.notes.splice(0)) s += `${n}\n`;
    const body: string[] = [];
    if (this.phaseName === 'transfer' || this.phaseName === 'trash') {
      body.push(this.countsLine());
      for (const name of [...this.active].slice(0, 5)) body.push(`  ${fit(name, width - 2)}`);
    } else {
      body.push(`${this.phaseName === 'scan' ? 'scanning library and listing remote' : 'comparing'}… ${formatDuration(performance.now() - this.t0)}`);
    }
    s += body.map((l) => `${l}\n`).join('');
    this.lines = body.length;
    this.out.write(s);
  }

  /** countsLine is the first line of the transfer display: files and bytes done of the planned, rate, ETA, failures. */
  countsLine(): string {
    const secs = (performance.now() - this.transferStart) / 1000;
    const rate = secs > 0 ? this.doneBytes / secs : 0;
    const eta = rate > 0 ? formatDuration(((this.bytes - this.doneBytes) / rate) * 1000) : '–';
    return (
      `${formatCount(this.doneFiles)}/${formatCount(this.files)} files  ${formatBytes(this.doneBytes)}/${formatBytes(this.bytes)}  ` +
      `${formatBytes(rate)}/s  ETA ${eta}${this.failedFiles ? `  ${this.failedFiles} failed` : ''}`
    );
  }

  close() {
    if (this.timer) clearInterval(this.timer);
    let s = this.lines > 0 ? `\x1b[${this.lines}A\x1b[J` : '';
    for (const n of [...this.notes.splice(0), ...this.digest.summary()]) s += `${n}\n`;
    this.lines = 0;
    if (s) this.out.write(s);
  }
}

/** fit shortens `s` to `width` characters by cutting its middle, keeping the file name at the end readable. */
export function fit(s: string, width: number): string {
  const chars = [...s];
  if (chars.length <= width) return s;
  const tail = Math.ceil((width - 1) * 0.6);
  return `${chars.slice(0, width - 1 - tail).join('')}…${chars.slice(chars.length - tail).join('')}`;
}
