/**
 * The JSON the service sends, as the dashboard reads it: the shapes of
 * src/service/control.ts, service-events.ts and docs/dashboard.md, copied
 * (not imported) so that the front end's type check never pulls in Node's
 * modules. Only the fields the page uses are listed.
 */

export type ServiceState = 'idle' | 'scanning' | 'syncing' | 'paused' | 'error';

export interface TransferStatus {
  id: number;
  kind: string;
  path: string;
  bytes: number;
  size: number;
}

export interface Failure {
  path: string;
  reason: string;
  attempts: number;
  retryAt: number;
}

export interface RunStatus {
  runId: string;
  direction: string;
  phase: string;
  files: { done: number; total: number };
  bytes: { done: number; total: number };
  transfers: TransferStatus[];
}

export interface PlayerStatus {
  name: string;
  database: string;
  health: 'ok' | 'repaired' | 'missing' | 'error';
  note?: string;
  songs: number;
  lastChange?: number;
  lastSync?: number;
  problems: number;
}

export interface ServiceStatus {
  state: ServiceState;
  reason?: string;
  pid: number;
  version: string;
  startedAt: number;
  library: string;
  remote: string;
  mode: 'push' | 'sync';
  queue: { length: number; failing: number; failures: Failure[] };
  run?: RunStatus;
  lastErrors: Array<{ at: number; path: string; reason: string }>;
  totals: { runs: number; uploaded: number; downloaded: number; moved: number; trashed: number; failed: number; bytes: number };
  lastSyncAt?: number;
  watcher: { state: string; warning?: string };
  players: PlayerStatus[];
}

/** A run's own event (sync/events.ts) as it travels inside a `run` service event. */
export interface RunEvent {
  type: string;
  runId: string;
  at: number;
  id?: number;
  phase?: string;
  files?: number;
  bytes?: number;
  action?: { kind: string; path: string; size: number };
  error?: string;
}

export type ServiceEvent = { id: number; at: number } & (
  | { type: 'state'; state: ServiceState; reason?: string }
  | { type: 'queue'; length: number; failing: number }
  | { type: 'run'; event: RunEvent }
  | { type: 'run-result'; runId: string; error?: string }
  | { type: 'watcher'; state: string; warning?: string }
  | { type: 'config' | 'player' | 'stopping' }
);

export const ACTIVITY_KINDS = ['upload', 'download', 'copy-remote', 'copy-local', 'move-local', 'conflict', 'trash-remote', 'trash-local', 'restore'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export interface ActivityRow {
  id: number;
  at: number;
  runId: string;
  kind: ActivityKind;
  reason: string;
  path: string;
  from?: string;
  bytes: number;
  ok: boolean;
  error?: string;
}

export interface ActivityPage {
  rows: ActivityRow[];
  next?: number;
  total: number;
}

export interface Throughput {
  bucketMs: number;
  points: Array<{ at: number; bytes: number; files: number }>;
}

export interface Library {
  files: number;
  bytes: number;
  formats: Array<{ ext: string; files: number; bytes: number }>;
  changes: { audio: number; tagsOnly: number };
  players: PlayerStatus[];
  playlists: Array<{ name: string; player?: string; user?: string; tracks: number; where: 'published' | 'pulled' }>;
}

export interface TrashBatch {
  stamp: string;
  items: Array<{ path: string; size: number }>;
  bytes: number;
}

export interface FileSide {
  size: number;
  mtime: number;
  tags?: Record<string, unknown>;
  writer?: string;
}

export interface Conflict {
  path: string;
  copy: string;
  mine: FileSide;
  theirs: FileSide;
}

export interface Settings {
  include: string[];
  exclude: string[];
  transfers: number;
  mode: 'push' | 'sync';
  pullInterval: string;
}

export interface CrewUser {
  name: string;
  machines: Array<{ id: string; host?: string; lastSeen: number; version?: string }>;
  collections: Array<{ key: string; tracks: number; updatedAt?: number }>;
  playlists: Array<{ name: string; tracks: number; missing: number }>;
  lacking: { files: number; bytes: number };
}
