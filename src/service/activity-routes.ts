/**
 * The dashboard's routes for history and the library (docs/dashboard.md):
 * `GET /api/activity`, `GET /api/throughput`, `POST /api/retry`,
 * `GET /api/library`. Mounted by controlApp behind its guard; input is
 * validated here and a bad field is a UsageError naming it (400).
 */
import type { Hono } from 'hono';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { ACTIVITY_KINDS, ACTIVITY_MAX_LIMIT, type ActivityQuery } from '../state/activity-log.js';
import type { ServiceControl } from './control.js';

const whole = z.string().regex(/^\d{1,15}$/, 'must be a whole number ≥ 0').transform(Number);
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x !== ''));

const activityQuerySchema = z.strictObject({
  q: z.string().max(1000).optional(),
  kinds: list.pipe(z.array(z.enum(ACTIVITY_KINDS)).max(ACTIVITY_KINDS.length * 2)).optional(),
  reasons: list.pipe(z.array(z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a reason code like tags-changed')).max(50)).optional(),
  from: whole.optional(),
  to: whole.optional(),
  before: whole.optional(),
  limit: whole.pipe(z.number().min(1).max(ACTIVITY_MAX_LIMIT)).optional(),
});

const retrySchema = z.strictObject({
  // Library paths are NFC in the queue, whatever form a client sends.
  paths: z.array(z.string().min(1).max(4096).transform((p) => p.normalize('NFC'))).max(100_000).optional(),
});

/** activityRoutes adds the routes to `app`, over `control`. */
export function activityRoutes(app: Hono, control: ServiceControl): void {
  app.get('/api/activity', (c) => c.json(control.activity(parseActivityQuery(c.req.queries()))));
  app.get('/api/throughput', (c) => c.json(control.throughput()));
  app.post('/api/retry', async (c) => {
    const { paths } = parseRetryBody(await c.req.text());
    return c.json({ retried: control.retry(paths) });
  });
  app.get('/api/library', (c) => c.json(control.library()));
}

/**
 * parseActivityQuery validates the query of `GET /api/activity` (each
 * parameter once; an empty one counts as absent). Throws UsageError naming
 * the parameter.
 */
export function parseActivityQuery(params: Record<string, string[]>): ActivityQuery {
  const one: Record<string, string> = {};
  for (const [name, values] of Object.entries(params)) {
    if (values.length > 1) throw new UsageError(`query ${name}: given ${values.length} times; give it once (lists are comma-separated)`);
    if (values[0] !== undefined && values[0] !== '') one[name] = values[0];
  }
  const q = check(activityQuerySchema, one, 'query');
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new UsageError('query from: is after to');
  return q as ActivityQuery;
}

/** parseRetryBody validates a `POST /api/retry` body (empty: retry all). Throws UsageError naming the field. */
export function parseRetryBody(body: string): { paths?: string[] } {
  if (body.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new UsageError('request body: not JSON');
  }
  return check(retrySchema, json, 'request body');
}

function check<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (issue?.code === 'unrecognized_keys') throw new UsageError(`${what} ${issue.keys.join(', ')}: unknown here`);
  const field = issue?.path.length ? ` ${issue.path.join('.')}` : '';
  throw new UsageError(`${what}${field}: ${issue?.message ?? 'invalid'}`);
}
