/**
 * Opening the user's default browser on a URL, as the desktop does: xdg-open
 * on Linux and the BSDs, `open` on macOS, `start` (a cmd builtin) on Windows.
 * The URL is one argument of a spawned program, never part of a shell
 * string; on Windows, where cmd parses it again, only a URL of plain
 * characters is taken.
 */
import { spawn } from 'node:child_process';
import { CratesyncError } from '../errors.js';

/** How long an opener that still runs counts as having opened (xdg-open may wait on the browser it started). */
const OPENER_WAIT_MS = 3000;

/** Characters cmd.exe gives no meaning to: a URL of only these is safe on its command line. */
const PLAIN_URL = /^https?:\/\/[A-Za-z0-9._~:/?=-]+$/;

/** browserCommand is the program and arguments that open `url` on `platform`. Throws CratesyncError for a URL cmd would parse. */
export function browserCommand(url: string, platform: NodeJS.Platform): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  if (platform === 'win32') {
    if (!PLAIN_URL.test(url)) throw new CratesyncError('cannot open this link on Windows: it holds characters cmd would interpret');
    // start's first quoted argument is a window title: an empty one keeps the URL from being taken for it.
    return { command: 'cmd', args: ['/d', '/c', 'start', '""', url] };
  }
  return { command: 'xdg-open', args: [url] };
}

/**
 * openBrowser starts the opener for `url`, detached so that it outlives this
 * process. Resolves once the opener has exited successfully or still runs
 * after a moment; throws CratesyncError when it cannot be started or exits
 * with an error (no browser, no desktop session).
 */
export async function openBrowser(url: string, platform: NodeJS.Platform = process.platform): Promise<void> {
  const { command, args } = browserCommand(url, platform);
  const child = spawn(command, args, { detached: true, stdio: 'ignore', windowsHide: true, windowsVerbatimArguments: platform === 'win32' });
  await new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const done = (err?: CratesyncError) => {
      clearTimeout(timer);
      child.removeAllListeners();
      child.unref();
      if (err) reject(err);
      else resolve();
    };
    child.once('error', (err: NodeJS.ErrnoException) => done(new CratesyncError(`cannot run ${command}: ${err.code ?? err.message}`, { cause: err })));
    child.once('exit', (code, signal) => done(code === 0 ? undefined : new CratesyncError(`${command} failed (${code === null ? `signal ${signal}` : `exit code ${code}`})`)));
    child.once('spawn', () => {
      timer = setTimeout(() => done(), OPENER_WAIT_MS);
    });
  });
}
