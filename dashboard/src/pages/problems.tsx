/** Problems: the files that fail, each with its reason and Retry; conflicts side by side with Keep mine / Keep theirs. */
import { Fragment } from 'preact';
import { api } from '../api.js';
import { bytes, when } from '../format.js';
import { refresh, type Live } from '../live.js';
import { Loading, NoteLine, useAction, useLoad } from '../parts/load.js';
import type { Conflict, FileSide } from '../types.js';

export function Problems({ live }: { live: Live }) {
  const s = live.status;
  const conflicts = useLoad(api.conflicts, [live.runsEnded]);
  const { note, act } = useAction(() => void refresh());
  const retry = (paths?: string[]) => act(async () => `Retrying ${(await api.retry(paths)).retried} file(s).`);
  const keep = (c: Conflict, side: 'mine' | 'theirs') =>
    act(async () => {
      // The copy is named: the service refuses to guess when a file has several.
      const r = await api.keep(c.path, side, c.copy);
      conflicts.reload();
      return `Kept ${side === 'mine' ? 'your' : 'their'} version of ${r.kept}; the other (${r.trashed.path}) went to the library trash, batch ${r.trashed.stamp} (Controls can restore it).`;
    });
  const failures = s?.queue.failures ?? [];
  return (
    <>
      <NoteLine note={note} />
      <section aria-labelledby="h-failing" class="card">
        <h2 id="h-failing">Failing files</h2>
        {failures.length === 0 ? (
          <p class="quiet">No file is failing.</p>
        ) : (
          <>
            <button type="button" onClick={() => void retry()}>Retry all now</button>
            <table>
              <caption class="sr-only">Files whose last attempt failed</caption>
              <thead>
                <tr><th scope="col">File</th><th scope="col">Reason</th><th scope="col">Attempts</th><th scope="col">Next try</th><th scope="col"><span class="sr-only">Action</span></th></tr>
              </thead>
              <tbody>
                {failures.map((f) => (
                  <tr key={f.path}>
                    <td class="path">{f.path}</td>
                    <td>{f.reason}</td>
                    <td>{f.attempts}</td>
                    <td>{when(f.retryAt)}</td>
                    <td><button type="button" aria-label={`Retry ${f.path}`} onClick={() => void retry([f.path])}>Retry</button></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
        {s && s.lastErrors.length > 0 && (
          <details>
            <summary>Last errors ({s.lastErrors.length})</summary>
            <ul>
              {s.lastErrors.map((e) => (
                <li key={`${e.at}-${e.path}`}><span class="path">{e.path}</span>: {e.reason} ({when(e.at)})</li>
              ))}
            </ul>
          </details>
        )}
      </section>
      <section aria-labelledby="h-conflicts" class="card">
        <h2 id="h-conflicts">Conflicts</h2>
        <Loading l={conflicts} what="conflicts">
          {(d) =>
            d.conflicts.length === 0 ? (
              <p class="quiet">No conflicts.</p>
            ) : (
              d.conflicts.map((c) => (
                <article class="conflict" key={c.path} aria-label={`Conflict: ${c.path}`}>
                  <h3 class="path">{c.path}</h3>
                  <div class="sides">
                    <Side title="Mine" name={c.path} f={c.mine} />
                    <Side title="Theirs" name={c.copy} f={c.theirs} />
                  </div>
                  <div class="buttons">
                    <button type="button" onClick={() => void keep(c, 'mine')} aria-label={`Keep mine: ${c.path}`}>Keep mine</button>
                    <button type="button" onClick={() => void keep(c, 'theirs')} aria-label={`Keep theirs: ${c.path}`}>Keep theirs</button>
                  </div>
                </article>
              ))
            )
          }
        </Loading>
      </section>
    </>
  );
}

function Side({ title, name, f }: { title: string; name: string; f: FileSide }) {
  return (
    <div class="side">
      <h4>{title}</h4>
      <dl class="facts">
        <dt>File</dt>
        <dd class="path">{name}</dd>
        <dt>Size</dt>
        <dd>{bytes(f.size)}</dd>
        <dt>Modified</dt>
        <dd>{new Date(f.mtime).toLocaleString()}</dd>
        <dt>Written by</dt>
        <dd>{f.writer ?? 'unknown'}</dd>
        {f.tags &&
          Object.entries(f.tags).map(([k, v]) => (
            <Fragment key={k}>
              <dt>{k}</dt>
              <dd>{typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v)}</dd>
            </Fragment>
          ))}
      </dl>
    </div>
  );
}
