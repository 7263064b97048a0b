/**
 * `GET /api/settings` and `PUT /api/settings`: include, exclude, transfers,
 * mode and pull interval as the config file sets them (a setting the file
 * leaves out shows the default the service uses). A PUT changes only the
 * settings it names, checked by the config file's own schema (a bad one: 400
 * naming it, the file untouched), writes the file (config/config-edit.ts)
 * and reloads the service, which uses them at once; should the reload refuse
 * the file, the old one is put back. PUTs are carried out one at a time.
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import type { ServiceControl } from './control.js';
import type { ControlsHost } from './controls-host.js';
import type { EditableSettings } from '../config/config-edit.js';
import { putBack, readSettings, writeSettings } from '../config/config-edit.js';
import { formatDuration } from '../config/duration.js';
import { DEFAULT_SETTINGS } from './service.js';
import { parseBody } from './dashboard-body.js';

/** Only the names are checked here; the values are the config schema's to judge (null: back to the default). */
const putSchema = z.strictObject({
  include: z.unknown().optional(),
  exclude: z.unknown().optional(),
  transfers: z.unknown().optional(),
  mode: z.unknown().optional(),
  pullInterval: z.unknown().optional(),
});

/** The settings as the page shows them: the file's, or the defaults. */
export type SettingsView = Required<EditableSettings>;

export function withDefaults(s: EditableSettings): SettingsView {
  return {
    include: s.include ?? [],
    exclude: s.exclude ?? [],
    transfers: s.transfers ?? DEFAULT_SETTINGS.transfers,
    mode: s.mode ?? 'push',
    pullInterval: s.pullInterval ?? formatDuration(DEFAULT_SETTINGS.pullIntervalMs),
  };
}

export function addSettingsRoutes(app: Hono, control: ServiceControl, host: () => ControlsHost): void {
  let last: Promise<unknown> = Promise.resolve();
  app.get('/api/settings', async (c) => c.json(withDefaults(await readSettings(host().configFile))));
  app.put('/api/settings', async (c) => {
    const patch = parseBody(await c.req.text(), putSchema);
    const file = host().configFile;
    const turn = last.then(async () => {
      const written = await writeSettings(file, patch);
      try {
        await control.reload();
      } catch (err) {
        await putBack(file, written.before);
        throw err;
      }
      return withDefaults(written.settings);
    });
    last = turn.catch(() => {});
    return c.json(await turn);
  });
}
