/** Crew: the users sharing the bucket, their machines, collections and playlists, what they have that you lack, and Pull. */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { bytes, count, when } from '../format.js';
import { Loading, useLoad } from '../parts/load.js';

export function Crew({ runsEnded }: { runsEnded: number }) {
  const crew = useLoad(api.crew, [runsEnded]);
  const problems = crew.data?.problems ?? [];
  const [note, setNote] = useState<{ text: string; error: boolean } | undefined>();
  const pull = async (user: string, playlist: string) => {
    try {
      const r = await api.pull(user, playlist);
      // 202 names the run that fetches what is missing (the playlist is written when it ends); 200: nothing was missing, it is written.
      const text =
        r.runId !== undefined
          ? `Pulling ${playlist} from ${user}${r.missing !== undefined ? `: ${count(r.missing)} of ${count(r.tracks)} tracks to fetch` : ''} (run ${r.runId}).`
          : `You have every track of ${playlist}; it is written to Playlists/${user}/.`;
      setNote({ text, error: false });
    } catch (err) {
      setNote({ text: err instanceof Error ? err.message : String(err), error: true });
    }
  };
  return (
    <>
      {note && <p class={note.error ? 'error' : 'ok'} role={note.error ? 'alert' : 'status'}>{note.text}</p>}
      <Loading l={crew} what="the crew">
        {(d) =>
          d.users.length === 0 ? (
            <p class="quiet">Nobody else shares this bucket.</p>
          ) : (
            d.users.map((u) => (
              <section class="card" key={u.name} aria-label={`User ${u.name}`}>
                <h2>{u.name}</h2>
                <p>
                  Has {count(u.lacking.files)} files ({bytes(u.lacking.bytes)}) that you lack.
                </p>
                <h3>Machines</h3>
                <ul>
                  {u.machines.map((m) => (
                    <li key={m.id}>
                      {m.host ?? m.id} — last seen {when(m.lastSeen)}{m.version && ` · ${m.version}`}
                    </li>
                  ))}
                </ul>
                <h3>Collections</h3>
                {u.collections.length === 0 ? (
                  <p class="quiet">None.</p>
                ) : (
                  <ul>
                    {u.collections.map((c) => (
                      <li key={c.key}>{c.key}: {count(c.tracks)} tracks{c.updatedAt && `, updated ${when(c.updatedAt)}`}</li>
                    ))}
                  </ul>
                )}
                <h3>Playlists</h3>
                {u.playlists.length === 0 ? (
                  <p class="quiet">None.</p>
                ) : (
                  <table>
                    <thead>
                      <tr><th scope="col">Playlist</th><th scope="col">Tracks</th><th scope="col">You lack</th><th scope="col"><span class="sr-only">Action</span></th></tr>
                    </thead>
                    <tbody>
                      {u.playlists.map((p) => (
                        <tr key={p.name}>
                          <td>{p.name}</td>
                          <td>{count(p.tracks)}</td>
                          <td>{count(p.missing)}</td>
                          <td><button type="button" aria-label={`Pull ${p.name} from ${u.name}`} onClick={() => void pull(u.name, p.name)}>Pull</button></td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
            ))
          )
        }
      </Loading>
      {problems.length > 0 && (
        <section class="card" aria-labelledby="h-crew-problems">
          <h2 id="h-crew-problems">Problems in the bucket</h2>
          <p class="quiet">These objects failed their checks and were left alone.</p>
          <ul class="crew-problems">
            {problems.map((p, i) => (
              <li key={`${i}:${p.path}`}>
                <span class="path">{p.path}</span>: {p.message}
              </li>
            ))}
          </ul>
        </section>
      )}
    </>
  );
}
