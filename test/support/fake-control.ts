/**
 * A stand-in for the service behind the control API: it records the commands
 * it gets and returns a canned status, so the HTTP layer and its clients can
 * be tested over real HTTP without a real service.
 */
import { UsageError } from '../../src/errors.js';
import type { RunRequest, ServiceControl, ServiceStatus } from '../../src/service/control.js';
import { EventLog } from '../../src/service/event-log.js';
import type { ActivityQuery } from '../../src/state/activity-log.js';

export interface FakeControl {
  control: ServiceControl;
  /** pause, resume, rescan, reload, stop, in the order asked. */
  calls: string[];
  runs: RunRequest[];
  events: EventLog;
  /** Makes reload throw `e` (undefined: succeed again). */
  failReload(e: Error | undefined): void;
  /** The activity queries asked, as parsed. */
  activityQueries: ActivityQuery[];
  /** The paths of each retry asked (undefined: all). */
  retries: Array<readonly string[] | undefined>;
}

/** fakeControl makes one; a run asking for 13 transfers is refused with a UsageError. */
export function fakeControl(): FakeControl {
  const calls: string[] = [];
  const runs: RunRequest[] = [];
  const activityQueries: ActivityQuery[] = [];
  const retries: Array<readonly string[] | undefined> = [];
  let reloadError: Error | undefined;
  const status: ServiceStatus = {
    state: 'idle',
    pid: 4242,
    version: '0.1.0',
    startedAt: 1,
    configFile: '/c.json',
    library: '/music',
    remote: 's3://b',
    mode: 'push',
    queue: { length: 0, failing: 0, failures: [] },
    lastErrors: [],
    totals: { runs: 0, uploaded: 0, downloaded: 0, moved: 0, trashed: 0, failed: 0, bytes: 0 },
    watcher: { state: 'watching' },
    players: [],
  };
  const events = new EventLog();
  const control: ServiceControl = {
    events,
    status: () => status,
    pause: () => void calls.push('pause'),
    resume: () => void calls.push('resume'),
    rescan: () => void calls.push('rescan'),
    reload: async () => {
      calls.push('reload');
      if (reloadError) throw reloadError;
    },
    run: (req) => {
      if (req.transfers === 13) throw new UsageError('transfers: unlucky');
      runs.push(req);
      return { runId: `r${runs.length}`, since: events.lastId };
    },
    stop: async () => void calls.push('stop'),
    activity: (q) => (activityQueries.push(q), { rows: [], total: 0 }),
    throughput: () => ({ bucketMs: 60_000, points: [] }),
    retry: (paths) => (retries.push(paths), paths?.length ?? 0),
    library: () => ({ files: 0, bytes: 0, formats: [], changes: { audio: 0, tagsOnly: 0 }, players: [], playlists: [] }),
  };
  return { control, calls, runs, events, failReload: (e) => (reloadError = e), activityQueries, retries };
}
