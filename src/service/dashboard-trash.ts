/**
 * `GET /api/trash` and `POST /api/trash/restore`: the remote's and the
 * library's trash batches, and putting one back (all of it or some paths),
 * as `cratesync trash list|restore` do.
 *
 * A restore moves files in the library or objects under `music/`: it runs in
 * the service's loop between runs (ControlsHost.exclusive), so that no run
 * plans against a library or a mirror half restored. The CLI's restore takes
 * no lock (it only adds to the catalog, which a run shares safely); inside
 * the service the loop is the lock, and it costs nothing to take. A remote
 * restore is recorded in the service's own catalog (its mirror learns it at
 * once, the other machines from the log); a local one queues the restored
 * paths, which the next run sends.
 */
import type { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { ControlsHost } from './controls-host.js';
import type { TrashBatch } from '../sync/trash-batches.js';
import { localTrash, remoteTrash, restoreLocal, restoreRemote } from '../sync/trash-batches.js';
import { recordRestoredIn } from '../sync/catalog.js';
import { parseBody } from './dashboard-body.js';

const restoreSchema = z.strictObject({
  side: z.enum(['remote', 'local']),
  stamp: z.string().min(1).max(64),
  paths: z.array(z.string().min(1).max(4096)).min(1).max(100_000).optional(),
});

export function addTrashRoutes(app: Hono, host: () => ControlsHost): void {
  app.get('/api/trash', async (c) => {
    const h = host();
    const [remote, local] = await Promise.all([remoteTrash(h.remote), localTrash(h.session.root)]);
    return c.json({ remote, local });
  });
  app.post('/api/trash/restore', async (c) => {
    const req = parseBody(await c.req.text(), restoreSchema);
    const h = host();
    const restored = await h.exclusive(async () => {
      if (req.side === 'local') await h.session.checkRoot();
      const batches = req.side === 'remote' ? await remoteTrash(h.remote) : await localTrash(h.session.root);
      const only = checkWanted(batches, req.stamp, req.paths);
      if (req.side === 'remote') {
        const done = await restoreRemote(h.remote, req.stamp, only);
        await recordRestoredIn(h.session.forRemote(h.remote).catalog, done);
        h.restored('remote', done);
        return done;
      }
      const done = await restoreLocal(h.session.root, req.stamp, only);
      h.enqueue(done);
      h.restored('local', done);
      return done;
    });
    return c.json({ restored });
  });
}

/**
 * checkWanted makes sure batch `stamp` exists and holds every path asked for
 * (404 naming the first that is not); returns the filter for the restore.
 */
function checkWanted(batches: readonly TrashBatch[], stamp: string, paths: readonly string[] | undefined): ((p: string) => boolean) | undefined {
  const batch = batches.find((b) => b.stamp === stamp);
  if (!batch) throw new HTTPException(404, { message: `no trash batch ${JSON.stringify(stamp)}` });
  if (!paths) return undefined;
  const held = new Set(batch.items.map((i) => i.path));
  const absent = paths.find((p) => !held.has(p));
  if (absent !== undefined) throw new HTTPException(404, { message: `paths: ${JSON.stringify(absent.slice(0, 200))} is not in trash batch ${stamp}` });
  const wanted = new Set(paths);
  return (p) => wanted.has(p);
}
