/** Overview: the service's state, the run under way as it happens, the queue, the last sync and the last hour's throughput. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { bytes, count, duration, percent, when } from '../format.js';
import type { Live } from '../live.js';
import { ThroughputChart } from '../parts/chart.js';
import { Loading, useLoad } from '../parts/load.js';
import type { RunStatus } from '../types.js';

export function Overview({ live }: { live: Live }) {
  const s = live.status;
  const chart = useLoad(api.throughput, [live.runsEnded]);
  if (!s) return <p class={live.error ? 'error' : 'quiet'} role="status">{live.error ?? 'Reading the service’s status…'}</p>;
  return (
    <>
      <section aria-labelledby="h-state" class="card">
        <h2 id="h-state">State</h2>
        <p class="state">
          <span id="state" class={`badge st-${s.state}`}>{s.state}</span>
          {s.reason && <span id="state-reason"> {s.reason}</span>}
        </p>
        <dl class="facts">
          <dt>Library</dt>
          <dd>{s.library}</dd>
          <dt>Remote</dt>
          <dd>{s.remote}</dd>
          <dt>Mode</dt>
          <dd>{s.mode}</dd>
          <dt>Queue</dt>
          <dd id="queue">
            {count(s.queue.length)} waiting{s.queue.failing > 0 && <>, <a href="#/problems">{count(s.queue.failing)} failing</a></>}
          </dd>
          <dt>Last sync</dt>
          <dd id="last-sync">{when(s.lastSyncAt)}</dd>
          <dt>Watcher</dt>
          <dd>{s.watcher.state}{s.watcher.warning && ` — ${s.watcher.warning}`}</dd>
        </dl>
      </section>
      <section aria-labelledby="h-run" class="card">
        <h2 id="h-run">Run under way</h2>
        {s.run ? <Run run={s.run} rate={live.rate} progressAt={live.progressAt} /> : <p class="quiet">No run under way.</p>}
      </section>
      <section aria-labelledby="h-chart" class="card">
        <h2 id="h-chart">Throughput, last hour</h2>
        <Loading l={chart} what="throughput">{(t) => <ThroughputChart t={t} />}</Loading>
      </section>
      <section aria-labelledby="h-totals" class="card">
        <h2 id="h-totals">Since the service started</h2>
        <dl class="facts">
          <dt>Runs</dt>
          <dd>{count(s.totals.runs)}</dd>
          <dt>Sent</dt>
          <dd>{count(s.totals.uploaded)} files</dd>
          <dt>Received</dt>
          <dd>{count(s.totals.downloaded)} files</dd>
          <dt>Moved</dt>
          <dd>{count(s.totals.moved)}</dd>
          <dt>Trashed</dt>
          <dd>{count(s.totals.trashed)}</dd>
          <dt>Failed</dt>
          <dd>{count(s.totals.failed)}</dd>
          <dt>Bytes</dt>
          <dd>{bytes(s.totals.bytes)}</dd>
          <dt>Started</dt>
          <dd>{when(s.startedAt)}</dd>
        </dl>
      </section>
    </>
  );
}

/** A rate older than this is no rate: the transfers are stalled (held, retrying), not moving. */
const STALE_MS = 5_000;

function Run({ run, rate: heard, progressAt }: { run: RunStatus; rate: number; progressAt: number }) {
  // A local clock (no request): the rate falls to 0 and the ETA to "—" when progress stops coming.
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  const rate = now - progressAt > STALE_MS ? 0 : heard;
  const left = run.bytes.total - run.bytes.done;
  const eta = rate > 0 && left > 0 ? duration((left / rate) * 1000) : '—';
  return (
    <>
      <p>
        {run.direction} · phase <span id="run-phase">{run.phase}</span>
      </p>
      <label class="bar-label" for="run-bar">
        <span id="files-done">{count(run.files.done)}</span> of <span id="files-total">{count(run.files.total)}</span> files ·{' '}
        <span id="bytes-done">{bytes(run.bytes.done)}</span> of <span id="bytes-total">{bytes(run.bytes.total)}</span>
      </label>
      <progress id="run-bar" max={100} value={percent(run.bytes.done, run.bytes.total)} data-bytes={run.bytes.done} data-files={run.files.done} />
      <p>
        Rate <span id="rate">{bytes(rate)}/s</span> · ETA <span id="eta">{eta}</span> · <span id="in-flight">{run.transfers.length}</span> in flight
      </p>
      {run.transfers.length > 0 && (
        <ul class="transfers" aria-label="Transfers in flight">
          {run.transfers.map((t) => (
            <li key={t.id}>
              <label for={`t-${t.id}`} class="path">
                {t.kind} {t.path} — {bytes(t.bytes)} of {bytes(t.size)}
              </label>
              <progress id={`t-${t.id}`} max={100} value={percent(t.bytes, t.size)} />
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
