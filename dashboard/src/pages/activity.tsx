/**
 * Activity: the history of what was sent, received, moved, trashed and
 * restored, and why. The search and filters are server queries (an index
 * there); pages come by keyset (`next`) as the list nears its end; only the
 * rows in view are rendered.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, type ActivityQuery } from '../api.js';
import { bytes, count } from '../format.js';
import { VirtualList } from '../parts/virtual-list.js';
import { ACTIVITY_KINDS, type ActivityRow } from '../types.js';

const PAGE = 200;
const ROW_HEIGHT = 44;

interface Result {
  rows: ActivityRow[];
  next?: number;
  total: number;
}

const REASONS: Record<string, string> = {
  new: 'new',
  'content-differs': 'audio changed',
  'tags-changed': 'tags only',
  moved: 'renamed / moved',
  copied: 'copied',
  'both-changed': 'conflict',
  'deleted-locally': 'deleted here',
  'deleted-remotely': 'deleted elsewhere',
  'remote-trash': 'from the remote trash',
  'local-trash': 'from the library trash',
};

export function Activity({ runsEnded }: { runsEnded: number }) {
  const [q, setQ] = useState('');
  const [typed, setTyped] = useState('');
  const [kinds, setKinds] = useState<string[]>([]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [res, setRes] = useState<Result | undefined>();
  const [msg, setMsg] = useState<{ text: string; missing: boolean } | undefined>();
  const loading = useRef(false);
  const gen = useRef(0);

  // Search as one types, once typing pauses: one query per pause, not per key.
  useEffect(() => {
    const t = setTimeout(() => setQ(typed.trim()), 250);
    return () => clearTimeout(t);
  }, [typed]);

  const base = (): ActivityQuery => ({
    q: q || undefined,
    kinds,
    from: from ? new Date(`${from}T00:00:00`).getTime() : undefined,
    to: to ? new Date(`${to}T23:59:59.999`).getTime() : undefined,
    limit: PAGE,
  });

  const load = async (before?: number) => {
    const g = before === undefined ? ++gen.current : gen.current;
    loading.current = true;
    try {
      const page = await api.activity({ ...base(), before });
      if (g !== gen.current) return;
      setMsg(undefined);
      setRes((r) => (before === undefined || !r ? page : { rows: [...r.rows, ...page.rows], next: page.next, total: page.total }));
    } catch (err) {
      if (g !== gen.current) return;
      setMsg({ text: err instanceof Error ? err.message : String(err), missing: err instanceof ApiError && err.missing });
    } finally {
      loading.current = false;
    }
  };

  useEffect(() => {
    void load();
  }, [q, kinds.join(','), from, to, runsEnded]);

  const more = () => {
    if (!loading.current && res?.next !== undefined) void load(res.next);
  };

  return (
    <section aria-labelledby="h-activity" class="card">
      <h2 id="h-activity">Activity</h2>
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search paths
          <input type="search" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} placeholder="artist, album, file…" />
        </label>
        <fieldset>
          <legend>Kinds</legend>
          {ACTIVITY_KINDS.map((k) => (
            <label class="check" key={k}>
              <input
                type="checkbox"
                checked={kinds.includes(k)}
                onChange={(e) => setKinds(e.currentTarget.checked ? [...kinds, k] : kinds.filter((x) => x !== k))}
              />
              {k}
            </label>
          ))}
        </fieldset>
        <label>
          From
          <input type="date" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        </label>
        <label>
          To
          <input type="date" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        </label>
      </form>
      {msg && <p class={msg.missing ? 'quiet' : 'error'} role="status">{msg.missing ? 'Activity: not available from this service.' : `Could not read the activity: ${msg.text}`}</p>}
      {res && (
        <>
          <p role="status" id="activity-count">
            {count(res.total)} {res.total === 1 ? 'entry' : 'entries'}
          </p>
          <VirtualList rows={res.rows} rowHeight={ROW_HEIGHT} label="Activity" onNearEnd={more} render={(r) => <Row r={r} />} />
        </>
      )}
    </section>
  );
}

function Row({ r }: { r: ActivityRow }) {
  return (
    <div class={`arow${r.ok ? '' : ' failed'}`}>
      <span class="kind">{r.kind}</span>
      <span class="path" title={r.from ? `${r.from} → ${r.path}` : r.path}>
        {r.from ? `${r.from} → ` : ''}
        {r.path}
      </span>
      <span class="meta">
        {REASONS[r.reason] ?? r.reason}
        {r.bytes > 0 && ` · ${bytes(r.bytes)}`} · {new Date(r.at).toLocaleString()}
        {!r.ok && ` · failed: ${r.error ?? ''}`}
      </span>
    </div>
  );
}
