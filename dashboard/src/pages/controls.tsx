/**
 * Controls: pause/resume and rescan, the trash batches with Restore, and the
 * settings form. The service validates the settings (as it does the config
 * file); its one-line error is shown next to the field it names.
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';
import { bytes } from '../format.js';
import { refresh, type Live } from '../live.js';
import { Loading, NoteLine, useAction, useLoad } from '../parts/load.js';
import type { Settings, TrashBatch } from '../types.js';

export function Controls({ live }: { live: Live }) {
  const s = live.status;
  const { note, act } = useAction(() => void refresh());
  const paused = s?.state === 'paused';
  return (
    <>
      <section aria-labelledby="h-service" class="card">
        <h2 id="h-service">Service</h2>
        <p>
          State: <span id="controls-state" class={`badge st-${s?.state ?? 'unknown'}`}>{s?.state ?? 'unknown'}</span>
        </p>
        <div class="buttons">
          {paused ? (
            <button type="button" id="resume" onClick={() => void act(async () => (await api.resume(), 'Resumed.'))}>Resume</button>
          ) : (
            <button type="button" id="pause" disabled={!s} onClick={() => void act(async () => (await api.pause(), 'Paused.'))}>Pause</button>
          )}
          <button type="button" id="rescan" disabled={!s} onClick={() => void act(async () => (await api.rescan(), 'A full rescan is queued.'))}>
            Rescan the library
          </button>
        </div>
        <NoteLine note={note} />
      </section>
      <Trash runsEnded={live.runsEnded} />
      <SettingsForm />
    </>
  );
}

function Trash({ runsEnded }: { runsEnded: number }) {
  const trash = useLoad(api.trash, [runsEnded]);
  const { note, act } = useAction(() => trash.reload());
  const restore = (side: 'remote' | 'local', b: TrashBatch) => act(async () => `Restored ${(await api.restore(side, b.stamp)).restored.length} file(s) from ${b.stamp}.`);
  const list = (side: 'remote' | 'local', batches: TrashBatch[]) =>
    batches.length === 0 ? (
      <p class="quiet">Empty.</p>
    ) : (
      <ul class="batches">
        {[...batches].reverse().map((b) => (
          <li key={b.stamp}>
            <details>
              <summary>
                {b.stamp}: {b.items.length} file(s), {bytes(b.bytes)}
              </summary>
              <ul>
                {b.items.slice(0, 100).map((i) => (
                  <li key={i.path} class="path">{i.path}</li>
                ))}
                {b.items.length > 100 && <li>… and {b.items.length - 100} more</li>}
              </ul>
            </details>
            <button type="button" aria-label={`Restore ${side} batch ${b.stamp}`} onClick={() => void restore(side, b)}>
              Restore
            </button>
          </li>
        ))}
      </ul>
    );
  return (
    <section aria-labelledby="h-trash" class="card">
      <h2 id="h-trash">Trash</h2>
      <NoteLine note={note} />
      <Loading l={trash} what="the trash">
        {(t) => (
          <>
            <h3>On the remote</h3>
            {list('remote', t.remote)}
            <h3>In the library</h3>
            {list('local', t.local)}
          </>
        )}
      </Loading>
    </section>
  );
}

const FIELDS = ['include', 'exclude', 'transfers', 'mode', 'pullInterval'] as const;
type Field = (typeof FIELDS)[number];

/**
 * The field a server error names: the first of ours that appears in it as a
 * key (`transfers: …`, `service.pullInterval: …`, `exclude.1: …`), else as a
 * word. The error
 * starts with the config file's path, whose folders may hold such a word.
 */
function fieldOf(message: string): Field | undefined {
  for (const key of [true, false]) {
    let best: { f: Field; at: number } | undefined;
    for (const f of FIELDS) {
      const at = message.search(new RegExp(`\\b${f}\\b${key ? '(?=(?:\\.\\d+)*:)' : ''}`));
      if (at >= 0 && (!best || at < best.at)) best = { f, at };
    }
    if (best) return best.f;
  }
  return undefined;
}

interface Draft {
  include: string;
  exclude: string;
  transfers: string;
  mode: string;
  pullInterval: string;
}

const toDraft = (s: Settings): Draft => ({
  include: s.include.join('\n'),
  exclude: s.exclude.join('\n'),
  transfers: String(s.transfers),
  mode: s.mode,
  pullInterval: s.pullInterval,
});

const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);

function SettingsForm() {
  const settings = useLoad(api.settings, []);
  const [draft, setDraft] = useState<Draft | undefined>();
  // The settings as last read or saved: only what differs from them is sent.
  const [base, setBase] = useState<Draft | undefined>();
  const [errors, setErrors] = useState<Partial<Record<Field | 'form', string>>>({});
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    if (settings.data) {
      setDraft(toDraft(settings.data));
      setBase(toDraft(settings.data));
    }
  }, [settings.data]);
  const set = (f: Field, v: string) => {
    setDraft((d) => (d ? { ...d, [f]: v } : d));
    setSaved(false);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    if (!draft || !base) return;
    // Only the settings changed are sent, so that saving one does not write the others' defaults into the
    // config file; one emptied is sent as null, which takes it out of the file (back to its default).
    const body: Parameters<typeof api.saveSettings>[0] = {};
    const list = (v: string) => (lines(v).length > 0 ? lines(v) : null);
    const same = (f: Field) => lines(draft[f]).join('\n') === lines(base[f]).join('\n');
    if (!same('include')) body.include = list(draft.include);
    if (!same('exclude')) body.exclude = list(draft.exclude);
    if (!same('transfers')) {
      const t = draft.transfers.trim();
      const n = Number(t);
      // A non-number is sent as typed, so that the service's own check names the field.
      body.transfers = t === '' ? null : Number.isFinite(n) ? n : (t as unknown as number);
    }
    if (draft.mode !== base.mode) body.mode = draft.mode as Settings['mode'];
    if (!same('pullInterval')) body.pullInterval = draft.pullInterval.trim() || null;
    try {
      const next = await api.saveSettings(body);
      setErrors({});
      setDraft(toDraft(next));
      setBase(toDraft(next));
      setSaved(true);
    } catch (err) {
      const m = err instanceof Error ? err.message : String(err);
      setErrors({ [fieldOf(m) ?? 'form']: m });
      setSaved(false);
    }
  };
  const field = (f: Field, label: string, input: (id: string, describedBy: string | undefined) => preact.JSX.Element) => {
    const id = `set-${f}`;
    const err = errors[f];
    return (
      <div class="field">
        <label for={id}>{label}</label>
        {input(id, err ? `${id}-error` : undefined)}
        {err && (
          <p class="error field-error" id={`${id}-error`} role="alert">
            {err}
          </p>
        )}
      </div>
    );
  };
  return (
    <section aria-labelledby="h-settings" class="card">
      <h2 id="h-settings">Settings</h2>
      <Loading l={settings} what="the settings">
        {() =>
          draft && (
            <form onSubmit={(e) => void save(e)} noValidate>
              {field('include', 'Include (one glob a line)', (id, d) => (
                <textarea id={id} aria-describedby={d} aria-invalid={!!errors.include} rows={3} value={draft.include} onInput={(e) => set('include', e.currentTarget.value)} />
              ))}
              {field('exclude', 'Exclude (one glob a line)', (id, d) => (
                <textarea id={id} aria-describedby={d} aria-invalid={!!errors.exclude} rows={3} value={draft.exclude} onInput={(e) => set('exclude', e.currentTarget.value)} />
              ))}
              {field('transfers', 'Transfers at once', (id, d) => (
                <input id={id} aria-describedby={d} aria-invalid={!!errors.transfers} inputMode="numeric" value={draft.transfers} onInput={(e) => set('transfers', e.currentTarget.value)} />
              ))}
              {field('mode', 'Mode', (id, d) => (
                <select id={id} aria-describedby={d} aria-invalid={!!errors.mode} value={draft.mode} onChange={(e) => set('mode', e.currentTarget.value)}>
                  <option value="push">push — the library is the source</option>
                  <option value="sync">sync — two-way</option>
                </select>
              ))}
              {field('pullInterval', 'Pull interval (sync mode), e.g. 5m', (id, d) => (
                <input id={id} aria-describedby={d} aria-invalid={!!errors.pullInterval} value={draft.pullInterval} onInput={(e) => set('pullInterval', e.currentTarget.value)} />
              ))}
              {errors.form && <p class="error" role="alert">{errors.form}</p>}
              <button type="submit">Save settings</button>
              {saved && <p class="ok" role="status">Saved; the service uses them now.</p>}
            </form>
          )
        }
      </Loading>
    </section>
  );
}
