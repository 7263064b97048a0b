/**
 * libraryOverview gathers what the dashboard's library page shows from the
 * state the service keeps: the file index's totals by format, the audio and
 * tag-only changes of the activity history, the players (as the status
 * shows them) and the playlists published to and pulled from the remote.
 */
import type { ActivityLog } from '../state/activity-log.js';
import type { Db } from '../state/state-db.js';
import type { LibraryOverview, PlayerStatus, PlaylistSummary } from './control.js';
import { libraryTotals } from '../state/library-stats.js';
import { PlayerState } from '../state/player-state.js';
import { PlaylistMirror, PulledPlaylists } from '../state/remote-playlists.js';
import { listPlaylists, playlistKey } from '../sync/playlist-publish.js';

/** The reasons of an upload or download that say what changed: the audio, or only the tags. */
const AUDIO = 'content-differs';
const TAGS_ONLY = 'tags-changed';

export interface OverviewSources {
  db: Db;
  /** The remote's URL (state rows are kept per remote). */
  remote: string;
  /** Who this machine writes as: the owner of the playlists it publishes. */
  user: string;
  activity: ActivityLog;
  players: PlayerStatus[];
}

export function libraryOverview(o: OverviewSources): LibraryOverview {
  const totals = libraryTotals(o.db);
  const changes = o.activity.countReasons(['upload', 'download'], [AUDIO, TAGS_ONLY]);
  const byKey = new Map(listPlaylists(new PlaylistMirror(o.db, o.remote)).map((p) => [p.key, p]));
  const playlists: PlaylistSummary[] = [];
  for (const p of new PlayerState(o.db).publishedPlaylists(o.remote)) {
    if (p.name === undefined) continue;
    const info = byKey.get(playlistKey(o.user, p.name));
    playlists.push({ name: p.name, player: p.ref.slice(0, p.ref.indexOf(':')), user: o.user, tracks: info?.tracks ?? 0, where: 'published' });
  }
  for (const f of new PulledPlaylists(o.db, o.remote).all()) {
    const info = byKey.get(f.key);
    const user = info?.user ?? f.key.split('/')[1];
    playlists.push({
      name: info?.name ?? f.file.replace(/^Playlists\/[^/]*\//, '').replace(/\.m3u8$/i, ''),
      ...(info?.player !== undefined ? { player: info.player } : {}),
      ...(user !== undefined ? { user } : {}),
      tracks: info?.tracks ?? 0,
      where: 'pulled',
    });
  }
  // Published first, then pulled; by user and name within each.
  const order = (p: PlaylistSummary) => `${p.where === 'published' ? 0 : 1}\n${p.user ?? ''}\n${p.name}`;
  playlists.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return {
    files: totals.files,
    bytes: totals.bytes,
    formats: totals.formats,
    changes: { audio: changes[AUDIO] ?? 0, tagsOnly: changes[TAGS_ONLY] ?? 0 },
    players: o.players,
    playlists,
  };
}
