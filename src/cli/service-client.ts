/**
 * The CLI's side of the control API: finds the service of a config (its
 * service.json and token in the service folder) and asks it things over
 * HTTP on 127.0.0.1. Used by `cratesync service …`, by push/pull/sync while
 * a service runs (the service does the run) and by `cratesync status`.
 */
import { CratesyncError, UsageError } from '../errors.js';
import type { RunAccepted, RunRequest, ServiceStatus } from '../service/control.js';
import type { ServiceEvent } from '../service/service-events.js';
import { liveService, readToken, type ServiceInfo } from '../service/service-files.js';
import { printable } from './format.js';

/** The control routes that take a bare POST. */
export type ControlCommand = '/api/pause' | '/api/resume' | '/api/rescan' | '/api/reload' | '/api/stop';

/** How long one long-poll waits on the service before asking again (seconds; the service allows up to 60). */
const FOLLOW_POLL_S = 30;

export class ServiceClient {
  private constructor(
    readonly info: ServiceInfo,
    private readonly token: string,
    private readonly dir: string,
  ) {}

  /**
   * find returns a client of the service whose folder is `dir` when one runs
   * (its service.json names a live process), else undefined. Throws
   * CratesyncError when it runs but its token cannot be read.
   */
  static async find(dir: string): Promise<ServiceClient | undefined> {
    const info = liveService(dir);
    if (!info) return undefined;
    return new ServiceClient(info, readToken(dir), dir);
  }

  /** health resolves once the service answers (`service start` waits on it). */
  async health(signal?: AbortSignal): Promise<void> {
    await this.request('GET', '/api/health', undefined, signal);
  }

  status(): Promise<ServiceStatus> {
    return this.request('GET', '/api/status') as Promise<ServiceStatus>;
  }

  /** post sends a command; a refusal is thrown (ConfigError's message from reload as a UsageError). */
  post(path: ControlCommand): Promise<unknown> {
    return this.request('POST', path);
  }

  /** run asks the service for a run; follow its events from `since` to see it. */
  run(req: RunRequest): Promise<RunAccepted> {
    return this.request('POST', '/api/runs', req) as Promise<RunAccepted>;
  }

  /**
   * dashboardLink asks the service for a one-time dashboard login link.
   * Throws CratesyncError when the answer is not a link to the service's own
   * address (the link is handed to a browser: nothing else may pass).
   */
  async dashboardLink(): Promise<string> {
    const r = (await this.request('POST', '/api/dashboard/link')) as { url?: unknown };
    const url = typeof r?.url === 'string' ? r.url : '';
    const own = new RegExp(`^http://127\\.0\\.0\\.1:${this.info.port}/login/[A-Za-z0-9_-]{16,128}$`);
    if (!own.test(url)) throw new CratesyncError(`the cratesync service (pid ${this.info.pid}, port ${this.info.port}) answered with no login link`);
    return url;
  }

  /** Long-polls events from `since`, calling fn for each, until fn returns true or the signal aborts. */
  async follow(since: number, fn: (e: ServiceEvent) => boolean | void, signal?: AbortSignal): Promise<void> {
    let next = since;
    while (!signal?.aborted) {
      let events: ServiceEvent[];
      try {
        events = (await this.request('GET', `/api/events?since=${next}&timeout=${FOLLOW_POLL_S}`, undefined, signal)) as ServiceEvent[];
      } catch (err) {
        if (signal?.aborted) return;
        throw err;
      }
      for (const e of events) {
        next = Math.max(next, e.id);
        if (fn(e) === true) return;
      }
    }
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const { pid, port } = this.info;
    let res: Response;
    try {
      res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CratesyncError(`the cratesync service (pid ${pid}, port ${port}) does not answer: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { cause: err });
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new CratesyncError(`the cratesync service (pid ${pid}, port ${port}) answered ${method} ${path} with ${res.status} and no JSON`);
    }
    if (res.ok) return json;
    const said = typeof (json as { error?: unknown })?.error === 'string' ? printable((json as { error: string }).error.split('\n')[0] ?? '') : `status ${res.status}`;
    if (res.status === 400) throw new UsageError(said);
    if (res.status === 401) throw new CratesyncError(`the cratesync service (pid ${pid}, port ${port}) refused the token in ${this.dir}: ${said}`);
    throw new CratesyncError(`the cratesync service (pid ${pid}, port ${port}): ${said}`);
  }
}
