/**
 * The dashboard's shell: a header with the service's state, navigation by
 * hash routes (#/activity…), and the page of the route. Every page reads the
 * service through api.ts; the live status comes from live.ts.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { useLive } from './live.js';
import { Activity } from './pages/activity.js';
import { Controls } from './pages/controls.js';
import { Crew } from './pages/crew.js';
import { Library } from './pages/library.js';
import { Overview } from './pages/overview.js';
import { Problems } from './pages/problems.js';
import './style.css';

const PAGES = [
  ['overview', 'Overview'],
  ['activity', 'Activity'],
  ['problems', 'Problems'],
  ['library', 'Library'],
  ['crew', 'Crew'],
  ['controls', 'Controls'],
] as const;
type Page = (typeof PAGES)[number][0];

function route(): Page {
  const name = location.hash.replace(/^#\/?/, '');
  return PAGES.find(([p]) => p === name)?.[0] ?? 'overview';
}

function App() {
  const live = useLive();
  const [page, setPage] = useState<Page>(route);
  useEffect(() => {
    const on = () => {
      setPage(route());
      // Move focus to the new page's heading region so keyboard and screen-reader users land on it.
      document.getElementById('main')?.focus();
    };
    addEventListener('hashchange', on);
    // Effects run after the first paint: a hash changed before the listener was there (a link followed as
    // the page loads) is read here, or the page would stay on the route of the first render.
    setPage(route());
    return () => removeEventListener('hashchange', on);
  }, []);
  useEffect(() => {
    const title = PAGES.find(([p]) => p === page)?.[1] ?? '';
    document.title = `${title} · cratesync${live.status ? ` (${live.status.state})` : ''}`;
  }, [page, live.status?.state]);
  const s = live.status;
  // The page is of use from the first status drawn: the browser test measures the first load to this mark.
  useEffect(() => {
    if (s && performance.getEntriesByName('dashboard-interactive').length === 0) performance.mark('dashboard-interactive');
  }, [s !== undefined]);
  const failing = s ? s.queue.failing : 0;
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <h1>cratesync</h1>
        <p class="header-state" aria-live="polite">
          {s ? <span class={`badge st-${s.state}`}>{s.state}</span> : <span class="badge">…</span>}
          {!live.connected && <span class="quiet"> (live updates reconnecting)</span>}
        </p>
        <nav aria-label="Pages">
          <ul>
            {PAGES.map(([p, label]) => (
              <li key={p}>
                <a href={`#/${p}`} aria-current={p === page ? 'page' : undefined}>
                  {label}
                  {p === 'problems' && failing > 0 && <span class="count" aria-label={`${failing} failing`}>{failing}</span>}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" tabIndex={-1} aria-label={PAGES.find(([p]) => p === page)?.[1]}>
        {page === 'overview' && <Overview live={live} />}
        {page === 'activity' && <Activity runsEnded={live.runsEnded} />}
        {page === 'problems' && <Problems live={live} />}
        {page === 'library' && <Library runsEnded={live.runsEnded} />}
        {page === 'crew' && <Crew runsEnded={live.runsEnded} />}
        {page === 'controls' && <Controls live={live} />}
      </main>
      <footer class="quiet">
        {s && (
          <>
            cratesync {s.version} · pid {s.pid}
          </>
        )}
      </footer>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
