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
 * afterPush, after a push or sync that changed anything, registers this
 * machine again in the users registry (a no-op push costs the registry
 * nothing: the requests are a noticeable share of one), then sends the
 * upload notification. Never rejects: a failure is a warning line.
 */
export async function afterPush(ctx: Context, io: Io, session: LibrarySession, remote: Remote, result: SyncResult, version?: string): Promise<void> {
  const warn = (s: string) => io.stderr.write(`warning: ${printable(s)}\n`);
  if ((result.exec?.done.length ?? 0) === 0) return;
  try {
    await registerMachine(remote, checkUserName(userName(ctx), userNameSource(ctx)), thisMachine(session, version));
  } catch (err) {
    warn(`users registry not updated: ${describe(err)}`);
  }
  const paths = uploadedPaths(result);
  if (paths.length === 0) return;
  try {
    const url = webhookFrom(ctx.config.notify?.webhook);
    if (url) await notifyUploads(url, { who: session.writer, paths });
  } catch (err) {
    warn(describe(err));
  }
}
