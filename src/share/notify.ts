/**
 * Webhook notifications of what a push uploaded, as DJ-Tools posts them to a
 * crew's Discord channel: who pushed and how many files, then the files
 * grouped by folder (`**Folder/Sub**`, then `- file.mp3` lines), split into
 * messages under Discord's 2,000-character limit.
 *
 * A webhook URL is a secret (whoever holds it may post to the channel): it is
 * never printed or logged whole, only as {@link redactUrl} spells it.
 */
import type { SyncResult } from '../sync/engine.js';
import { CratesyncError } from '../errors.js';

/** Discord refuses a message of this many characters or more. */
export const MESSAGE_LIMIT = 2000;
/** How long one POST may take. */
const TIMEOUT_MS = 10_000;
/** The longest wait a 429's `retry_after` is honoured for; a longer one fails the notification. */
const MAX_RETRY_AFTER_MS = 30_000;

/** redactUrl names a URL by scheme and host only: `https://discord.com/…`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/…`;
  } catch {
    return '(not a URL)';
  }
}

/** isWebhookUrl: `url` is an absolute http:// or https:// URL. */
export function isWebhookUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
  } catch {
    return false;
  }
}

/**
 * webhookFrom is the webhook to notify: CRATESYNC_WEBHOOK when it is set (an
 * empty value turns notifications off), else the config's `notify.webhook`.
 * Throws CratesyncError, without the URL, when the variable is no http(s) URL.
 */
export function webhookFrom(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.CRATESYNC_WEBHOOK;
  if (fromEnv === undefined) return configured;
  if (fromEnv === '') return undefined;
  if (!isWebhookUrl(fromEnv)) throw new CratesyncError('notify: CRATESYNC_WEBHOOK is not an http:// or https:// URL');
  return fromEnv;
}

/**
 * uploadedPaths lists the library paths a run sent to `music/`: its finished
 * uploads (tag-only edits among them) and the local side of its conflicts.
 * Renames and copies made on the server send no new file and are left out.
 */
export function uploadedPaths(r: SyncResult): string[] {
  return (r.exec?.done ?? []).filter((a) => a.kind === 'upload' || a.kind === 'conflict').map((a) => a.path);
}

/**
 * md escapes what Discord's markdown would read in a file name (emphasis,
 * code, spoilers, links): shown as typed, with a backslash before each such
 * character. Control characters become '?'. Mentions (`@everyone`) are left
 * as written: every message is sent with mentions turned off.
 */
export function md(s: string): string {
  return s.replace(/\p{Cc}/gu, '?').replace(/[\\*_~`|<[\]]/g, (c) => `\\${c}`);
}

/** A line that alone reaches the limit is cut, with an ellipsis. */
function fit(line: string, limit: number): string {
  return line.length < limit ? line : `${line.slice(0, limit - 2)}…`;
}

/**
 * splitMessages formats the notification of `paths` uploaded by `who`
 * (`user@machine`): a head line, then per folder (sorted) a `**Folder**`
 * line and its files (sorted) as `- name` lines. The lines are packed in
 * order into messages each shorter than `limit` characters; no line is split
 * (a line too long alone is cut with '…'). A message that continues a folder
 * starts with that folder's line again, marked `(continued)`.
 */
export function splitMessages(who: string, paths: readonly string[], limit: number = MESSAGE_LIMIT): string[] {
  const groups = new Map<string, string[]>();
  for (const p of paths) {
    const cut = p.lastIndexOf('/');
    const folder = cut < 0 ? '' : p.slice(0, cut);
    const list = groups.get(folder) ?? [];
    list.push(cut < 0 ? p : p.slice(cut + 1));
    groups.set(folder, list);
  }
  const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const n = paths.length;
  const messages: string[] = [];
  let current = fit(`**${md(who)}** uploaded ${n} ${n === 1 ? 'file' : 'files'}`, limit);
  const add = (line: string, header: string) => {
    if (current.length + 1 + line.length < limit) {
      current += `\n${line}`;
      return;
    }
    messages.push(current);
    current = `${header}${more}\n${line}`;
  };
  const more = ' (continued)';
  for (const folder of [...groups.keys()].sort(byCode)) {
    // Cut so that a folder's line (continued) and one file line always fit in one message.
    const header = fit(`**${folder === '' ? '(library root)' : md(folder)}**`, Math.floor(limit / 2) - more.length);
    const lines = (groups.get(folder) ?? []).sort(byCode).map((name) => fit(`- ${md(name)}`, limit - header.length - more.length - 1));
    // A folder's line never ends a message without one of its files after it.
    const first = lines[0] ?? '';
    if (current.length + header.length + first.length + 2 >= limit) {
      messages.push(current);
      current = header;
    } else {
      current += `\n${header}`;
    }
    for (const line of lines) add(line, header);
  }
  messages.push(current);
  return messages;
}

/** The failure of one notification; its message names the webhook only by scheme and host. */
export class NotifyError extends CratesyncError {}

/**
 * notifyUploads posts the notification of `o.paths` to the webhook `url`
 * (Discord-compatible JSON `{ content }`, mentions disabled), one message at
 * a time and in order. A 429 answer is waited out once for its `retry_after`
 * (at most 30 s); each request may take 10 s. Resolves to the messages sent
 * (0 when there is nothing to say); rejects with NotifyError at the first
 * message that fails, sending no more.
 */
export async function notifyUploads(url: string, o: { who: string; paths: string[] }, fetchImpl: typeof fetch = fetch): Promise<{ messages: number }> {
  if (o.paths.length === 0) return { messages: 0 };
  const where = redactUrl(url);
  const fail = (why: string) => new NotifyError(`notify: webhook ${where} failed: ${why}`);
  let sent = 0;
  for (const content of splitMessages(o.who, o.paths)) {
    let retried = false;
    for (;;) {
      let res: Response;
      try {
        res = await fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ content, allowed_mentions: { parse: [] } }),
          signal: AbortSignal.timeout(TIMEOUT_MS),
          redirect: 'error',
        });
      } catch (err) {
        throw fail(networkReason(err));
      }
      if (res.ok) {
        await res.body?.cancel().catch(() => {});
        break;
      }
      if (res.status === 429 && !retried) {
        retried = true;
        const wait = await retryAfterMs(res);
        if (wait !== undefined && wait <= MAX_RETRY_AFTER_MS) {
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
      } else {
        await res.body?.cancel().catch(() => {});
      }
      throw fail(String(res.status));
    }
    sent++;
  }
  return { messages: sent };
}

/** retryAfterMs reads a 429's wait: the JSON body's `retry_after` (seconds), else the Retry-After header. */
async function retryAfterMs(res: Response): Promise<number | undefined> {
  let secs: number | undefined;
  try {
    const text = (await res.text()).slice(0, 10_000);
    const v = (JSON.parse(text) as { retry_after?: unknown }).retry_after;
    if (typeof v === 'number') secs = v;
  } catch {
    // No JSON body: the header may say.
  }
  if (secs === undefined) {
    const h = Number(res.headers.get('retry-after'));
    if (Number.isFinite(h)) secs = h;
  }
  return secs !== undefined && secs >= 0 && Number.isFinite(secs) ? Math.ceil(secs * 1000) : undefined;
}

/** networkReason names why a request failed without its URL: the system error code, or a timeout. */
function networkReason(err: unknown): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `no answer within ${TIMEOUT_MS / 1000}s`;
  const cause = (err as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  return 'no connection';
}
