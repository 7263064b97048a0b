/**
 * What the service offers its clients (the control API, the CLI, the
 * dashboard): its status and the commands it takes. The HTTP layer
 * (control-api.ts) maps routes onto a {@link ServiceControl}; the service
 * (service.ts) implements it. Everything here is plain JSON-safe data.
 */
import type { Direction } from '../sync/plan.js';
import type { EventLog } from './event-log.js';
import type { ServiceState } from './service-events.js';
import type { ActivityPage, ActivityQuery } from '../state/activity-log.js';
import type { Throughput } from './activity-recorder.js';
import type { ControlsHost } from './controls-host.js';


/** One transfer in flight. */
export interface TransferStatus {
  /** The action's id within its run. */
  id: number;
  kind: string;
  path: string;
  /** Bytes moved so far and the file's size. */
  bytes: number;
  size: number;
}

/** A failure the service met, newest first in {@link ServiceStatus.lastErrors}. */
export interface ServiceError {
  at: number;
  /** Library path, or a name in parentheses for what is not one file: `(remote)`, `(library)`. */
  path: string;
  reason: string;
}

export interface ServiceStatus {
  state: ServiceState;
  /** Why the service is in `error` or `paused`. */
  reason?: string;
  pid: number;
  version: string;
  startedAt: number;
  configFile: string;
  library: string;
  remote: string;
  mode: 'push' | 'sync';
  queue: {
    /** Paths waiting, due or not. */
    length: number;
    /** Of those, paths whose last attempt failed (waiting for their retry). */
    failing: number;
    /** The failing ones (most attempts first, at most 20): kept in the state, so they survive a restart. */
    failures: Array<{ path: string; reason: string; attempts: number; retryAt: number }>;
  };
  /** The run under way, when one is. */
  run?: {
    runId: string;
    direction: Direction;
    phase: string;
    files: { done: number; total: number };
    bytes: { done: number; total: number };
    transfers: TransferStatus[];
  };
  lastErrors: ServiceError[];
  /** Since the service started. */
  totals: { runs: number; uploaded: number; downloaded: number; moved: number; trashed: number; failed: number; bytes: number };
  /** When the last run ended without a fatal error (ms since the epoch). */
  lastSyncAt?: number;
  watcher: { state: 'watching' | 'polling' | 'off'; warning?: string };
  /** The Subsonic server (config `serve.enabled`): its URL while it serves, why not when it cannot. */
  subsonic?: { state: 'starting' | 'serving' | 'error'; url?: string; error?: string };
  /** The media players attached to the library (cratesync attach). */
  players: PlayerStatus[];
}

/** An attached player as the service status shows it. */
export interface PlayerStatus {
  name: string;
  database: string;
  health: 'ok' | 'repaired' | 'missing' | 'error';
  /** What the last check found or did. */
  note?: string;
  songs: number;
  lastChange?: number;
  lastSync?: number;
  /** Songs outside the library, unreadable entries…: how many, and the first few. */
  problems: number;
  firstProblems: Array<{ path: string; message: string }>;
}

/** A run asked for by a client (`cratesync push` while the service runs). */
export interface RunRequest {
  direction: Direction;
  delete?: boolean;
  /** As the --max-delete flag: "50%" or a count. */
  maxDelete?: string;
  full?: boolean;
  include?: string[];
  exclude?: string[];
  /** Only these library paths (see FilterOptions.paths). */
  paths?: string[];
  transfers?: number;
}

export interface RunAccepted {
  runId: string;
  /** The last event id before the run: follow the events from here to see all of it. */
  since: number;
}

export interface ServiceControl {
  status(): ServiceStatus;
  pause(): void;
  resume(): void;
  /** Queue a full rescan of the library (and, in sync mode, of the remote). */
  rescan(): void;
  /** Reread the config file; throws ConfigError when it is invalid (the old one stays). */
  reload(): Promise<void>;
  /** Queue a run; it starts once the run under way ends. Throws UsageError for a bad request. */
  run(req: RunRequest): RunAccepted;
  /** Stop gracefully: in-flight transfers finish or are abandoned, then the process ends. */
  stop(): Promise<void>;
  readonly events: EventLog;
  /** The library, remote and loop for the dashboard's control routes (dashboard-controls.ts); absent in stand-ins. */
  readonly controls?: ControlsHost;
  /** One page of the activity history, newest first. */
  activity(q: ActivityQuery): ActivityPage;
  /** Bytes and files done per minute over the last hour. */
  throughput(): Throughput;
  /** Makes the failing files in the queue due now (only `paths`, when given) and wakes the service; how many. */
  retry(paths?: readonly string[]): number;
  /** What the dashboard's library page shows. */
  library(): LibraryOverview;
}

/** What the dashboard's library page shows (`GET /api/library`). */
export interface LibraryOverview {
  /** Of the library at its last scan (the file index). */
  files: number;
  bytes: number;
  /** By extension, most bytes first. */
  formats: Array<{ ext: string; files: number; bytes: number }>;
  /** Uploads and downloads done over the history kept: the audio changed, or only the tags. */
  changes: { audio: number; tagsOnly: number };
  players: PlayerStatus[];
  playlists: PlaylistSummary[];
}

/** A playlist this machine published (from a player) or pulled (another user's, written into the library). */
export interface PlaylistSummary {
  name: string;
  player?: string;
  user?: string;
  tracks: number;
  where: 'published' | 'pulled';
}
