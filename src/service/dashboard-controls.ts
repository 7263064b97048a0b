/**
 * The dashboard's control routes: trash, conflicts, settings and the crew
 * (docs/dashboard.md has the contract). Mounted on the control API's app by
 * controlApp, behind its guard; each group lives in a module of its own.
 */
import type { Hono } from 'hono';
import type { ServiceControl } from './control.js';
import type { ControlsHost } from './controls-host.js';
import { CratesyncError } from '../errors.js';
import { addTrashRoutes } from './dashboard-trash.js';
import { addConflictRoutes } from './dashboard-conflicts.js';
import { addSettingsRoutes } from './dashboard-settings.js';
import { addCrewRoutes } from './dashboard-crew.js';

/** addControlRoutes adds the routes of trash, conflicts, settings and the crew to `app`. */
export function addControlRoutes(app: Hono, control: ServiceControl): void {
  const host = (): ControlsHost => {
    if (!control.controls) throw new CratesyncError('this service offers no dashboard controls');
    return control.controls;
  };
  addTrashRoutes(app, host);
  addConflictRoutes(app, host);
  addSettingsRoutes(app, control, host);
  addCrewRoutes(app, control, host);
}
