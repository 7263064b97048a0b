/**
 * The dashboard's only way to the service: JSON over fetch, same origin, the
 * session cookie sent by the browser. State-changing calls carry the CSRF
 * token of `GET /api/session` (fetched once, again after a 403). A route the
 * service does not have answers 404: {@link ApiError.missing} lets a page say
 * "not available" instead of failing.
 */
import type { ActivityPage, Conflict, CrewUser, Kept, Library, ServiceEvent, ServiceStatus, Settings, Throughput, TrashBatch } from './types.js';

/** A refused or failed request: `status` 0 when the service could not be reached. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
  /** The service has no such route (an older service, or a part not built yet). */
  get missing(): boolean {
    return this.status === 404;
  }
}

let csrf: Promise<string | undefined> | undefined;

/** The session's CSRF token, or undefined when there is no session (Bearer access, or a service without sessions). */
function csrfToken(): Promise<string | undefined> {
  csrf ??= request<{ csrf?: string }>('GET', '/api/session').then(
    (s) => s.csrf,
    () => undefined,
  );
  return csrf;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') {
    const token = await csrfToken();
    if (token) headers['x-csrf-token'] = token;
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'the service cannot be reached (is it running?)');
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    // A stale CSRF token (the service restarted): ask for a new one next time.
    if (res.status === 403) csrf = undefined;
    const msg = json && typeof json === 'object' && 'error' in json && typeof json.error === 'string' ? json.error : `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg);
  }
  return json as T;
}

const get = <T>(path: string) => request<T>('GET', path);
const post = <T>(path: string, body: unknown = {}) => request<T>('POST', path, body);

/** The activity query of `GET /api/activity`; empty fields are left out. */
export interface ActivityQuery {
  q?: string;
  kinds?: string[];
  from?: number;
  to?: number;
  before?: number;
  limit?: number;
}

function query(q: ActivityQuery): string {
  const p = new URLSearchParams();
  if (q.q) p.set('q', q.q);
  if (q.kinds?.length) p.set('kinds', q.kinds.join(','));
  if (q.from !== undefined) p.set('from', String(q.from));
  if (q.to !== undefined) p.set('to', String(q.to));
  if (q.before !== undefined) p.set('before', String(q.before));
  if (q.limit !== undefined) p.set('limit', String(q.limit));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const api = {
  status: () => get<ServiceStatus>('/api/status'),
  pause: () => post<{ ok: true }>('/api/pause'),
  resume: () => post<{ ok: true }>('/api/resume'),
  rescan: () => post<{ ok: true }>('/api/rescan'),
  activity: (q: ActivityQuery) => get<ActivityPage>(`/api/activity${query(q)}`),
  throughput: () => get<Throughput>('/api/throughput'),
  retry: (paths?: string[]) => post<{ retried: number }>('/api/retry', paths ? { paths } : {}),
  library: () => get<Library>('/api/library'),
  trash: () => get<{ remote: TrashBatch[]; local: TrashBatch[] }>('/api/trash'),
  restore: (side: 'remote' | 'local', stamp: string) => post<{ restored: string[] }>('/api/trash/restore', { side, stamp }),
  conflicts: () => get<{ conflicts: Conflict[] }>('/api/conflicts'),
  /** `copy` names the conflict copy: a file with several copies needs it (else 409), one with one copy takes it too. */
  keep: (path: string, keep: 'mine' | 'theirs', copy?: string) => post<Kept>('/api/conflicts/keep', copy === undefined ? { path, keep } : { path, keep, copy }),
  settings: () => get<Settings>('/api/settings'),
  /** Only the settings named change; `null` takes one out of the config file (back to its default). */
  saveSettings: (s: { [K in keyof Settings]?: Settings[K] | null }) => request<Settings>('PUT', '/api/settings', s),
  /** `problems`: bucket objects that failed their checks (absent from an older service). */
  crew: () => get<{ users: CrewUser[]; problems?: Array<{ path: string; message: string }> }>('/api/crew'),
  /** 202 with the run that fetches the missing tracks (the playlist is written when it ends), or 200 without a run when none is missing. */
  pull: (user: string, playlist: string) => post<{ runId?: string; tracks: number; missing: number }>('/api/crew/pull', { user, playlist }),
};

/**
 * follow opens the service's event stream and hands each event to `onEvent`;
 * `onOpen` runs on each (re)connection, when the caller should reread the
 * status. The browser reconnects by itself after a dropped connection
 * (sending Last-Event-ID, so nothing is missed); a refused one (the service
 * restarted, the session ended) is retried here with a growing wait. Returns
 * a function that closes the stream.
 */
export function follow(onEvent: (e: ServiceEvent) => void, onOpen: () => void, onDown: () => void): () => void {
  const TYPES = ['state', 'queue', 'run', 'run-result', 'watcher', 'config', 'player', 'stopping'];
  let source: EventSource | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wait = 1000;
  let closed = false;
  const open = () => {
    source = new EventSource('/api/events/stream', { withCredentials: true });
    source.onopen = () => {
      wait = 1000;
      onOpen();
    };
    source.onerror = () => {
      onDown();
      if (source?.readyState !== EventSource.CLOSED || closed) return;
      timer = setTimeout(open, wait);
      wait = Math.min(wait * 2, 30_000);
    };
    for (const t of TYPES) {
      source.addEventListener(t, (m) => {
        try {
          onEvent(JSON.parse((m as MessageEvent<string>).data) as ServiceEvent);
        } catch {
          // A line the page cannot read is skipped; the next status read corrects the picture.
        }
      });
    }
  };
  open();
  return () => {
    closed = true;
    clearTimeout(timer);
    source?.close();
  };
}
