/**
 * What follows a CLI push or sync that ran (not a dry run, not one the
 * service ran): this machine is registered again in the users registry, and
 * the webhook (if any) hears of the files uploaded. Neither fails the run: a
 * failure is one warning line on stderr.
 */
import type { Context } from './context.js';
import type { Io } from './io.js';
import type { Remote } from '../remote/remote.js';
import type { LibrarySession } from '../sync/library-session.js';
import type { SyncResult } from '../sync/engine.js';
import { checkUserName, registerMachine, thisMachine } from '../share/user-registry.js';
import { notifyUploads, uploadedPaths, webhookFrom } from '../share/notify.js';
import { describe } from '../errors.js';
import { userName } from './context.js';
import { printable } from './format.js';

/** userNameSource names where the user name came from, for messages about it. */
export function userNameSource(ctx: Context): string {
  if (ctx.global.user !== undefined) return '--user';
  if (ctx.config.user !== undefined) return `user in ${ctx.configFile}`;
  return 'the login name (set one with --user)';
}

/**
 * startRegistration registers this machine again in the users registry, at
 * the same time as the push it goes with (its requests then cost the push
 * no time). Resolves to a warning, or undefined; never rejects.
 */
export async function startRegistration(ctx: Context, session: LibrarySession, remote: Remote, version?: string): Promise<string | undefined> {
  try {
    await registerMachine(remote, checkUserName(userName(ctx), userNameSource(ctx)), thisMachine(session, version));
    return undefined;
  } catch (err) {
    return `users registry not updated: ${describe(err)}`;
  }
}

/** afterPush waits for the registration started with the push and sends the upload notification; never rejects. */
export async function afterPush(ctx: Context, io: Io, session: LibrarySession, result: SyncResult, registering: Promise<string | undefined>): Promise<void> {
  const warn = (s: string) => io.stderr.write(`warning: ${printable(s)}\n`);
  const problem = await registering;
  if (problem) warn(problem);
  const paths = uploadedPaths(result);
  if (paths.length === 0) return;
  try {
    const url = webhookFrom(ctx.config.notify?.webhook);
    if (url) await notifyUploads(url, { who: session.writer, paths });
  } catch (err) {
    warn(describe(err));
  }
}
