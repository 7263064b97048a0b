/** Reading the JSON body of a dashboard request. */
import type { z } from 'zod';
import { UsageError } from '../errors.js';

/**
 * parseBody parses a request body as JSON and checks it with `schema`;
 * UsageError (400) names the first bad field.
 */
export function parseBody<S extends z.ZodType>(body: string, schema: S): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new UsageError('request body: not JSON');
  }
  const r = schema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : 'body';
    throw new UsageError(`request body: ${field}: ${issue?.message ?? 'invalid'}`);
  }
  return r.data;
}
