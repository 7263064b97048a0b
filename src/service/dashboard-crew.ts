/**
 * `GET /api/crew` and `POST /api/crew/pull`: who shares the remote
 * (share/crew-view.ts), and pulling one of their playlists: the service is
 * asked for a pull run of the playlist's tracks this library lacks (a run
 * like any other, with its events and its result), and once that run has
 * ended the playlist is written into the library as the service's own
 * playlist pull writes it (share/playlist-pull.ts), in its loop. The
 * playlist's entries come from the bucket and are checked as every pulled
 * playlist's are.
 */
import type { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { Problem } from '../core/problem.js';
import type { PlaylistObject } from '../state/remote-playlists.js';
import type { ServiceControl } from './control.js';
import type { ControlsHost } from './controls-host.js';
import type { EventLog } from './event-log.js';
import type { ServiceEvent } from './service-events.js';
import { CrewCache, crewView, entriesOf, playlistOwner } from '../share/crew-view.js';
import { pullPlaylist } from '../share/playlist-pull.js';
import { indexedAmong } from '../state/crew-stats.js';
import { parseBody } from './dashboard-body.js';

const pullSchema = z.strictObject({
  user: z.string().min(1).max(256),
  playlist: z.string().min(1).max(4096),
});

export function addCrewRoutes(app: Hono, control: ServiceControl, host: () => ControlsHost): void {
  const cache = new CrewCache();
  app.get('/api/crew', async (c) => {
    const h = host();
    const problems: Problem[] = [];
    const users = await crewView({ remote: h.remote, db: h.session.db, index: h.session.index, playlists: h.session.forRemote(h.remote).catalog.playlists, cache }, problems, c.req.raw.signal);
    return c.json({ users, problems: problems.slice(0, 50) });
  });
  app.post('/api/crew/pull', async (c) => {
    const req = parseBody(await c.req.text(), pullSchema);
    const h = host();
    const o = findPlaylist(h, req.user, req.playlist);
    const problems: Problem[] = [];
    const paths = await entriesOf({ remote: h.remote, cache }, o, problems);
    if (!paths) throw new HTTPException(409, { message: `playlist ${req.playlist} of ${req.user} cannot be read: ${problems[0]?.message ?? 'unknown'}` });
    h.session.index.flush();
    const have = indexedAmong(h.session.db, paths);
    const missing = [...new Set(paths.filter((p) => !have.has(p)))];
    const write = () => writeAfter(h, o);
    if (missing.length === 0) {
      await write();
      return c.json({ tracks: paths.length, missing: 0 });
    }
    const accepted = control.run({ direction: 'pull', paths: missing });
    whenRunEnds(control.events, accepted.runId, accepted.since, write);
    return c.json({ runId: accepted.runId, tracks: paths.length, missing: missing.length }, 202);
  });
}

/** The playlist object of `user` named `name` (as GET /api/crew shows it); 404 when there is none. */
function findPlaylist(h: ControlsHost, user: string, name: string): PlaylistObject {
  for (const o of h.session.forRemote(h.remote).catalog.playlists.all()) {
    const owner = playlistOwner(o);
    if (owner?.user === user && owner.name === name) return o;
  }
  throw new HTTPException(404, { message: `no playlist ${JSON.stringify(name)} of ${JSON.stringify(user)} (GET /api/crew lists them)` });
}

/** writeAfter writes playlist `o` into the library, in the service's loop; problems go to the status. */
async function writeAfter(h: ControlsHost, o: PlaylistObject): Promise<void> {
  const problems: Problem[] = [];
  const { catalog } = h.session.forRemote(h.remote);
  await h.exclusive(() => pullPlaylist({ remote: h.remote, catalog, db: h.session.db, root: h.session.root }, o, problems));
  for (const p of problems) h.problem(p.path, p.message);
}

/** whenRunEnds calls `fn` once the run `runId` has told its result (its events follow `since`). */
function whenRunEnds(events: EventLog, runId: string, since: number, fn: () => Promise<void>): void {
  const ended = (e: ServiceEvent) => e.type === 'run-result' && e.runId === runId;
  let done = false;
  const finish = () => {
    done = true;
    unsubscribe();
    // A stopping service drops the write: nothing else is left to tell.
    fn().catch(() => {});
  };
  const unsubscribe = events.subscribe((e) => {
    if (!done && ended(e)) finish();
  });
  if (events.since(since).some(ended)) finish();
}
