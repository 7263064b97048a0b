/**
 * useLoad reads one thing from the service for a page, and says calmly when
 * the service has no such route yet ("not available") instead of failing.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { ApiError } from '../api.js';

export interface Loaded<T> {
  data?: T;
  error?: string;
  /** The service does not offer this (404). */
  missing: boolean;
  loading: boolean;
  reload: () => void;
}

export function useLoad<T>(fn: () => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<Omit<Loaded<T>, 'reload'>>({ missing: false, loading: true });
  const [n, setN] = useState(0);
  const reload = useCallback(() => setN((x) => x + 1), []);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, missing: false, loading: false }),
      (err: unknown) =>
        live &&
        setState({
          missing: err instanceof ApiError && err.missing,
          error: err instanceof Error ? err.message : String(err),
          loading: false,
        }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n]);
  return { ...state, reload };
}

/** Shows `children` once `l` has data; else a calm line: loading, not available, or the error. */
export function Loading<T>(props: { l: Loaded<T>; what: string; children: (data: T) => ComponentChildren }) {
  const { l } = props;
  if (l.data !== undefined) return <>{props.children(l.data)}</>;
  if (l.loading) return <p class="quiet" role="status">Loading {props.what}…</p>;
  if (l.missing) return <p class="quiet" role="status">{cap(props.what)}: not available from this service.</p>;
  return <p class="error" role="alert">Could not read {props.what}: {l.error}</p>;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** What an action said when it ended: its result, or its error. */
export interface Note {
  text: string;
  error: boolean;
}

/**
 * useAction runs a page's actions (a button's request): what each says, or
 * its error, becomes the page's note, and `after` runs once it has ended
 * either way (to read the status or a list again).
 */
export function useAction(after: () => void): { note: Note | undefined; act: (what: () => Promise<string>) => Promise<void> } {
  const [note, setNote] = useState<Note | undefined>();
  const act = async (what: () => Promise<string>) => {
    try {
      setNote({ text: await what(), error: false });
    } catch (err) {
      setNote({ text: err instanceof Error ? err.message : String(err), error: true });
    }
    after();
  };
  return { note, act };
}

/** NoteLine shows an action's note: an error as an alert, a result as a status. */
export function NoteLine({ note }: { note: Note | undefined }) {
  return note ? (
    <p class={note.error ? 'error' : 'ok'} role={note.error ? 'alert' : 'status'}>
      {note.text}
    </p>
  ) : null;
}
