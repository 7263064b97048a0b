/** Library: counts and sizes by format, tag-only edits against audio changes, the players attached and the playlists synced. */
import { api } from '../api.js';
import { bytes, count, when } from '../format.js';
import { Loading, useLoad } from '../parts/load.js';

export function Library({ runsEnded }: { runsEnded: number }) {
  const lib = useLoad(api.library, [runsEnded]);
  return (
    <Loading l={lib} what="the library">
      {(l) => (
        <>
          <section aria-labelledby="h-formats" class="card">
            <h2 id="h-formats">Formats</h2>
            <p>
              {count(l.files)} files, {bytes(l.bytes)}
            </p>
            <table>
              <thead>
                <tr><th scope="col">Format</th><th scope="col">Files</th><th scope="col">Size</th></tr>
              </thead>
              <tbody>
                {l.formats.map((f) => (
                  <tr key={f.ext}><td>{f.ext || '(none)'}</td><td>{count(f.files)}</td><td>{bytes(f.bytes)}</td></tr>
                ))}
              </tbody>
            </table>
          </section>
          <section aria-labelledby="h-changes" class="card">
            <h2 id="h-changes">Changes sent</h2>
            <dl class="facts">
              <dt>Audio changed</dt>
              <dd>{count(l.changes.audio)}</dd>
              <dt>Tags only</dt>
              <dd>{count(l.changes.tagsOnly)}</dd>
            </dl>
          </section>
          <section aria-labelledby="h-players" class="card">
            <h2 id="h-players">Players</h2>
            {l.players.length === 0 ? (
              <p class="quiet">No player attached (cratesync attach).</p>
            ) : (
              <table>
                <thead>
                  <tr><th scope="col">Player</th><th scope="col">State</th><th scope="col">Songs</th><th scope="col">Last change</th><th scope="col">Problems</th></tr>
                </thead>
                <tbody>
                  {l.players.map((p) => (
                    <tr key={p.name}>
                      <td>{p.name}</td>
                      <td>{p.health}{p.note && ` — ${p.note}`}</td>
                      <td>{count(p.songs)}</td>
                      <td>{when(p.lastChange)}</td>
                      <td>{count(p.problems)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
          <section aria-labelledby="h-playlists" class="card">
            <h2 id="h-playlists">Playlists</h2>
            {l.playlists.length === 0 ? (
              <p class="quiet">No playlists synced.</p>
            ) : (
              <table>
                <thead>
                  <tr><th scope="col">Playlist</th><th scope="col">From</th><th scope="col">Tracks</th><th scope="col">Where</th></tr>
                </thead>
                <tbody>
                  {l.playlists.map((p) => (
                    <tr key={`${p.user ?? ''}/${p.player ?? ''}/${p.name}`}>
                      <td>{p.name}</td>
                      <td>{p.user ?? p.player ?? ''}</td>
                      <td>{count(p.tracks)}</td>
                      <td>{p.where}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </section>
        </>
      )}
    </Loading>
  );
}
