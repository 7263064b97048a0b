/**
 * The service's live picture: the status read once (and again on each
 * reconnection and at each run's end), kept current by the event stream as
 * the service's own RunTracker keeps it, so that progress moves as it
 * happens without polling. Listeners hear at most one change per frame.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, follow } from './api.js';
import type { RunEvent, ServiceEvent, ServiceStatus } from './types.js';

export interface Live {
  status?: ServiceStatus;
  /** The event stream is open. */
  connected: boolean;
  /** Why the status could not be read. */
  error?: string;
  /** Bytes per second over the last seconds of the run under way. */
  rate: number;
  /** When the last progress of the run under way came (ms since the epoch; 0: none yet). */
  progressAt: number;
  /** Grows each time a run ends: pages that show history read it again. */
  runsEnded: number;
}

/** How far back the rate looks. */
const RATE_WINDOW_MS = 10_000;

let live: Live = { connected: false, rate: 0, progressAt: 0, runsEnded: 0 };
const listeners = new Set<() => void>();
let frame = 0;
let samples: Array<{ at: number; bytes: number }> = [];
let started = false;

function changed(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    live = { ...live };
    for (const l of listeners) l();
  });
}

/** How many status reads were started: only the newest one's answer is kept (answers may come out of order). */
let reads = 0;

async function readStatus(): Promise<void> {
  const n = ++reads;
  try {
    const status = await api.status();
    if (n !== reads) return;
    live.status = status;
    live.error = undefined;
  } catch (err) {
    if (n !== reads) return;
    live.error = err instanceof Error ? err.message : String(err);
  }
  changed();
}

function sample(at: number, bytes: number): void {
  live.progressAt = Date.now();
  samples.push({ at, bytes });
  while (samples.length > 2 && (samples[0]?.at ?? at) < at - RATE_WINDOW_MS) samples.shift();
  const first = samples[0];
  const span = first ? at - first.at : 0;
  live.rate = first && span >= 500 ? ((bytes - first.bytes) * 1000) / span : live.rate;
}

function hearRun(s: ServiceStatus, e: RunEvent): void {
  if (e.type === 'run-started') {
    s.run = { runId: e.runId, direction: '', phase: 'scan', files: { done: 0, total: 0 }, bytes: { done: 0, total: 0 }, transfers: [] };
    samples = [];
    live.rate = 0;
    return;
  }
  const r = s.run;
  if (!r || r.runId !== e.runId) return;
  switch (e.type) {
    case 'phase':
      r.phase = e.phase ?? r.phase;
      break;
    case 'planned':
      r.files.total = e.files ?? 0;
      r.bytes.total = e.bytes ?? 0;
      break;
    case 'action-started':
      if (e.action && e.id !== undefined && ['upload', 'download', 'copy-remote', 'copy-local', 'move-local', 'conflict'].includes(e.action.kind)) {
        r.transfers.push({ id: e.id, kind: e.action.kind, path: e.action.path, bytes: 0, size: e.action.size });
      }
      break;
    case 'action-progress': {
      const t = r.transfers.find((x) => x.id === e.id);
      if (t) t.bytes += e.bytes ?? 0;
      r.bytes.done += e.bytes ?? 0;
      sample(e.at, r.bytes.done);
      break;
    }
    case 'action-finished':
    case 'action-failed': {
      const i = r.transfers.findIndex((x) => x.id === e.id);
      if (i >= 0) {
        r.transfers.splice(i, 1);
        r.files.done++;
      }
      break;
    }
    default:
      break;
  }
}

function hear(e: ServiceEvent): void {
  const s = live.status;
  switch (e.type) {
    case 'state':
      if (s) {
        s.state = e.state;
        s.reason = e.reason;
      }
      break;
    case 'queue':
      if (s) {
        // The failing files themselves are in the status only; the service settles a run's failures after
        // telling its end, so the status read at run-result may not hold them yet.
        const failingChanged = s.queue.failing !== e.failing;
        s.queue.length = e.length;
        s.queue.failing = e.failing;
        if (failingChanged) void readStatus();
      }
      break;
    case 'run':
      if (s) hearRun(s, e.event);
      break;
    case 'run-result':
      if (s) s.run = undefined;
      live.rate = 0;
      live.runsEnded++;
      void readStatus();
      break;
    case 'watcher':
    case 'config':
    case 'player':
      void readStatus();
      break;
    default:
      break;
  }
  changed();
}

function start(): void {
  if (started) return;
  started = true;
  void readStatus();
  follow(
    hear,
    () => {
      live.connected = true;
      void readStatus();
    },
    () => {
      live.connected = false;
      changed();
    },
  );
}

/** refresh reads the status again now (after a command the page sent). */
export function refresh(): Promise<void> {
  return readStatus();
}

/** useLive: the live picture, re-rendering the component when it changes. */
export function useLive(): Live {
  const [, setTick] = useState(0);
  useEffect(() => {
    start();
    const l = () => setTick((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return live;
}
