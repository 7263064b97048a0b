/**
 * `GET /api/conflicts` and `POST /api/conflicts/keep`: the conflict copies
 * in the library (sync/conflict-copies.ts) with both versions, and keeping
 * one of them, the other going to the library's trash (restorable).
 *
 * Keeping moves library files: it runs in the service's loop between runs
 * (ControlsHost.exclusive), and then queues both paths, so that the next run
 * sends the kept version and sees the copy gone. Only a conflict listed now
 * can be settled: a path outside the library is refused (400), one that is no
 * conflict is not found (404).
 */
import type { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { z } from 'zod';
import type { ControlsHost } from './controls-host.js';
import type { Conflict } from '../sync/conflict-copies.js';
import { findConflict, keepVersion, listConflicts } from '../sync/conflict-copies.js';
import { LOCAL_TRASH_DIR } from '../sync/layout.js';
import { parseBody } from './dashboard-body.js';

const keepSchema = z.strictObject({
  path: z.string().min(1).max(4096),
  keep: z.enum(['mine', 'theirs']),
  /** Which copy, when the file has more than one (a path from GET /api/conflicts). */
  copy: z.string().min(1).max(4096).optional(),
});

export function addConflictRoutes(app: Hono, host: () => ControlsHost): void {
  app.get('/api/conflicts', async (c) => c.json({ conflicts: await conflicts(host()) }));
  app.post('/api/conflicts/keep', async (c) => {
    const req = parseBody(await c.req.text(), keepSchema);
    for (const [field, p] of [['path', req.path], ['copy', req.copy]] as const) {
      const why = p === undefined ? undefined : pathProblem(p);
      if (why) throw new HTTPException(400, { message: `request body: ${field}: ${why}` });
    }
    const h = host();
    const settled = await h.exclusive(async () => {
      await h.session.checkRoot();
      const conflict = await pickConflict(h, req.path, req.copy);
      const done = await keepVersion(h.session.root, conflict, req.keep);
      h.enqueue([conflict.path, conflict.copy]);
      return done;
    });
    return c.json(settled);
  });
}

function conflicts(h: ControlsHost): Promise<Conflict[]> {
  return listConflicts({ root: h.session.root, index: h.session.index, mirror: h.session.forRemote(h.remote).mirror });
}

/** The conflict of library file `path` (and copy `copy`, when given), as it is now; 404 when there is none. */
async function pickConflict(h: ControlsHost, path: string, copy: string | undefined): Promise<Conflict> {
  const mirror = h.session.forRemote(h.remote).mirror;
  if (copy !== undefined) {
    const c = await findConflict({ root: h.session.root, mirror }, copy);
    if (!c || c.path !== path) throw new HTTPException(404, { message: `no conflict of ${JSON.stringify(path)} with copy ${JSON.stringify(copy)}` });
    return c;
  }
  const found = (await conflicts(h)).filter((c) => c.path === path);
  const [only] = found;
  if (!only) throw new HTTPException(404, { message: `no conflict of ${JSON.stringify(path)} (GET /api/conflicts lists them)` });
  if (found.length > 1) throw new HTTPException(409, { message: `${JSON.stringify(path)} has ${found.length} conflict copies: say which in copy` });
  return only;
}

/** Why `p` is not a library path (relative, '/'-separated, inside the library, not its trash), or undefined. */
export function pathProblem(p: string): string | undefined {
  if (/[\u0000-\u001f\u007f\\]/.test(p)) return 'must not hold control characters or backslashes';
  if (p.startsWith('/') || /^[A-Za-z]:/.test(p)) return 'must be a path inside the library, not an absolute one';
  const steps = p.split('/');
  if (steps.some((s) => s === '' || s === '.' || s === '..')) return 'must be a path inside the library (no empty, "." or ".." steps)';
  if (steps[0] === LOCAL_TRASH_DIR) return 'must not be in the library trash';
  return undefined;
}
