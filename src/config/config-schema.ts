/**
 * The config file's schema (zod). Kept apart from config.ts so that zod is
 * loaded only when there is a config file to check.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { DURATION, parseDuration } from './duration.js';
import { userNameProblem } from './user-name.js';
import { listenProblem } from './listen-address.js';

const globList = z.array(z.string().min(1, 'must not be empty'));

/** A duration of at least `min` ms, spelled like `5m`. */
const duration = (min: number, what: string) =>
  z
    .string()
    .regex(DURATION, 'must be a duration like "500ms", "30s", "5m" or "1h"')
    .refine((s) => (parseDuration(s) ?? 0) >= min, `must be at least ${what}`);

export const configSchema = z
  .object({
    /** Library root folder. */
    library: z.string().min(1).optional(),
    /** Default remote URL: s3://bucket/prefix, file:///path or a folder path. */
    remote: z.string().min(1).optional(),
    /** S3 endpoint for non-AWS servers. */
    endpoint: z.url({ message: 'must be a URL like http://127.0.0.1:9000' }).optional(),
    /** AWS shared-config profile to take credentials from. */
    profile: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    /** Your name in a crew; defaults to the login name. */
    user: z
      .string()
      .superRefine((s, ctx) => {
        const why = userNameProblem(s.normalize('NFC'));
        if (why) ctx.addIssue({ code: 'custom', message: why });
      })
      .optional(),
    include: globList.optional(),
    exclude: globList.optional(),
    /** File extensions that take part, without dots. */
    extensions: z.array(z.string().regex(/^\.?[A-Za-z0-9]{1,10}$/, 'must be an extension like mp3')).min(1).optional(),
    /** Files transferred at once. */
    transfers: z.number().int().min(1).max(256).optional(),
    /** Default --max-delete: "50%" or a count. */
    maxDelete: z.union([z.string().regex(/^\d{1,3}(\.\d+)?%$|^\d+$/, 'must be like "50%" or a count'), z.number().int().min(0)]).optional(),
    /** Your Rekordbox collection: `collection push` reads this XML when --xml is left out. */
    collection: z.strictObject({ xml: z.string().min(1).optional() }).optional(),
    /** How the service (`cratesync service run`) works; see the README. */
    service: z
      .object({
        /** push: the library is the source; sync: two-way, other machines' changes are pulled too. */
        mode: z.enum(['push', 'sync']).optional(),
        /** Carry deletions across (to trash, under maxDelete). */
        delete: z.boolean().optional(),
        /** How often, in sync mode, the remote catalog is read for other machines' changes. */
        pullInterval: duration(1000, '1s').optional(),
        /** How often the whole library is rescanned, for what a watcher missed. */
        rescanInterval: duration(10_000, '10s').optional(),
        /** How long a file must be still (no change) before it is sent. */
        quiet: duration(50, '50ms').optional(),
        logLevel: z.enum(['debug', 'info', 'warn', 'error']).optional(),
      })
      .strict()
      .optional(),
    /** The Subsonic server (`cratesync serve`, and inside the service when enabled); see the README. */
    serve: z
      .object({
        /** Run the server inside the service (`cratesync service run`). */
        enabled: z.boolean().optional(),
        /** `host:port`; default 127.0.0.1:4533 (this machine only). */
        listen: z
          .string()
          .superRefine((s, ctx) => {
            const why = listenProblem(s);
            if (why) ctx.addIssue({ code: 'custom', message: why });
          })
          .optional(),
        /** PEM certificate file for HTTPS (a path: the file, not the key material, is in the config). */
        tlsCert: z.string().min(1).optional(),
        /** PEM private key file for HTTPS, beside tlsCert. */
        tlsKey: z.string().min(1).optional(),
      })
      .strict()
      .refine((s) => (s.tlsCert === undefined) === (s.tlsKey === undefined), { message: 'tlsCert and tlsKey go together: give both or neither' })
      .optional(),
    /** Notifications of what a push uploaded. */
    notify: z
      .object({
        /**
         * A Discord-compatible webhook (POST `{ content }`). A secret: messages
         * name only its scheme and host. CRATESYNC_WEBHOOK overrides it.
         */
        webhook: z
          .url({ protocol: /^https?$/, message: 'must be an http:// or https:// URL' })
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

/** Keys that look like secrets are refused outright, with a pointer to the right place. */
const SECRET_KEYS = /secret|password|token|access.?key/i;

/** validateConfig checks a parsed config object; errors name the first bad key. */
export function validateConfig(raw: unknown, file: string): Config {
  if (raw && typeof raw === 'object') {
    const secret = Object.keys(raw).find((k) => SECRET_KEYS.test(k));
    if (secret) throw new ConfigError(file, secret, 'secrets do not belong in the config file; use the AWS credential chain (env or --profile)');
  }
  const r = configSchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (!issue) throw new ConfigError(file, '(file)', 'invalid');
  const at = issue.path.length > 0 ? `${issue.path.join('.')}.` : '';
  if (issue.code === 'unrecognized_keys') throw new ConfigError(file, issue.keys.map((k) => at + k).join(', '), 'unknown key');
  const key = issue.path.length > 0 ? issue.path.join('.') : '(file)';
  throw new ConfigError(file, key, issue.message);
}
