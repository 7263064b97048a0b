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
import { checkUserName, prepareRegistration, thisMachine, type PreparedRegistration } from '../share/user-registry.js';
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

/** A registration under way beside a push: ready to be written, or why it cannot be. */
export type Registering = Promise<PreparedRegistration | { problem: string }>;

const notUpdated = (err: unknown) => ({ problem: `users registry not updated: ${describe(err)}` });

/**
 * startRegistration reads this machine's entry in the users registry at the
 * same time as the push it goes with (its requests then cost the push no
 * time); afterPush writes it. Never rejects.
 */
export function startRegistration(ctx: Context, session: LibrarySession, remote: Remote, version?: string): Registering {
  // A bad user name is a warning of this push, not its failure: checked inside the promise.
  return (async () => prepareRegistration(remote, checkUserName(userName(ctx), userNameSource(ctx)), thisMachine(session, version)))().catch(notUpdated);
}

/**
 * afterPush writes the registration started with the push — when the push
 * did anything, or the entry is stale: a no-op push writes nothing — and
 * sends the upload notification. Never rejects.
 */
export async function afterPush(ctx: Context, io: Io, session: LibrarySession, result: SyncResult, registering: Registering): Promise<void> {
  const warn = (s: string) => io.stderr.write(`warning: ${printable(s)}\n`);
  const reg = await registering;
  const didWork = (result.exec?.done.length ?? 0) > 0;
  if ('problem' in reg) warn(reg.problem);
  else if (reg.stale || didWork) await reg.commit().catch((err: unknown) => warn(notUpdated(err).problem));
  const paths = uploadedPaths(result);
  if (paths.length === 0) return;
  try {
    const url = webhookFrom(ctx.config.notify?.webhook);
    if (url) await notifyUploads(url, { who: session.writer, paths });
  } catch (err) {
    warn(describe(err));
  }
}
