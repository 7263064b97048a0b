/**
 * Upload notifications: how the listing is split into messages, and how they
 * are sent to a real HTTP receiver on 127.0.0.1 (order, 429 honoured once,
 * failures named without the URL).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isWebhookUrl, md, MESSAGE_LIMIT, notifyUploads, redactUrl, splitMessages, webhookFrom } from './notify.js';

/** paths makes `n` files spread over `folders` nested folders, with names of every sort. */
function paths(n: number, folders: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`Artist ${i % folders}/Album (${i % folders}) [Deluxe]/${String(i).padStart(3, '0')} Track_${i} *feat* Someone.mp3`);
  return out;
}

/** unescape undoes md(): what a reader of the message sees. */
const unescape = (s: string) => s.replace(/\\(.)/g, '$1');

/** fileLines maps each message's lines to [folder, file] pairs, the folder being the last `**…**` line above in the same message. */
function pairs(messages: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of messages) {
    let folder: string | undefined;
    for (const line of m.split('\n')) {
      const h = /^\*\*(.*)\*\*( \(continued\))?$/.exec(line);
      if (h && !line.includes(' uploaded ')) folder = unescape(h[1]!);
      else if (line.startsWith('- ')) {
        expect(folder, `a file line with no folder line above it in its message: ${line}`).toBeDefined();
        out.push([folder!, unescape(line.slice(2))]);
      }
    }
  }
  return out;
}

describe('splitMessages', () => {
  it('one short message for a few files, grouped by folder, folders and files sorted', () => {
    const msgs = splitMessages('alice@laptop-1', ['B/2.mp3', 'A/x/1.mp3', 'B/1.mp3', 'top.mp3']);
    expect(msgs).toEqual(['**alice@laptop-1** uploaded 4 files\n**(library root)**\n- top.mp3\n**A/x**\n- 1.mp3\n**B**\n- 1.mp3\n- 2.mp3']);
  });

  it('many files: every message under 2,000 characters, no line split, order kept, each file once under its folder', () => {
    const all = paths(400, 7);
    const msgs = splitMessages('dj@m', all);
    expect(msgs.length).toBeGreaterThan(2);
    for (const m of msgs) expect(m.length).toBeLessThan(MESSAGE_LIMIT);
    expect(msgs[0]).toMatch(/^\*\*dj@m\*\* uploaded 400 files\n/);
    const seen = pairs(msgs);
    const expected = [...all]
      .map((p) => [p.slice(0, p.lastIndexOf('/')), p.slice(p.lastIndexOf('/') + 1)] as [string, string])
      .sort(([fa, na], [fb, nb]) => (fa < fb ? -1 : fa > fb ? 1 : na < nb ? -1 : na > nb ? 1 : 0));
    expect(seen).toEqual(expected);
    // No line split: every line of every message is a whole line of the listing.
    const whole = new Set(['**dj@m** uploaded 400 files', ...expected.flatMap(([f, n]) => [`**${md(f)}**`, `**${md(f)}** (continued)`, `- ${md(n)}`])]);
    for (const m of msgs) for (const line of m.split('\n')) expect(whole.has(line), line).toBe(true);
    // A folder's line never ends a message.
    for (const m of msgs) expect(m.split('\n').at(-1)).toMatch(/^- /);
  });

  it('a line too long for one message is cut with …', () => {
    const long = `F/${'x'.repeat(3000)}.mp3`;
    const msgs = splitMessages('a@b', ['F/a.mp3', long, 'F/z.mp3']);
    for (const m of msgs) expect(m.length).toBeLessThan(MESSAGE_LIMIT);
    const cut = msgs.flatMap((m) => m.split('\n')).find((l) => l.startsWith('- xxx'));
    expect(cut).toMatch(/^- x+…$/);
    expect(pairs(msgs).map(([, n]) => n.slice(0, 5))).toEqual(['a.mp3', 'xxxxx', 'z.mp3']);
  });

  it('escapes markdown and mentions, and replaces control characters', () => {
    const [m] = splitMessages('a@b', ['x/@everyone *bold* `code`\n.mp3']);
    expect(m).toContain('- @everyone \\*bold\\* \\`code\\`?.mp3');
    expect(m!.split('\n')).toHaveLength(3);
  });
});

describe('redactUrl and webhookFrom', () => {
  it('names a URL by scheme and host only', () => {
    expect(redactUrl('https://discord.com/api/webhooks/123/SECRET-TOKEN?x=1')).toBe('https://discord.com/…');
    expect(redactUrl('http://user:pw@127.0.0.1:8080/hook/SECRET')).toBe('http://127.0.0.1:8080/…');
    expect(redactUrl('not a url SECRET')).toBe('(not a URL)');
  });

  it('CRATESYNC_WEBHOOK overrides the config; empty turns it off; a bad one is refused without echoing it', () => {
    expect(webhookFrom('https://a.example/x', {})).toBe('https://a.example/x');
    expect(webhookFrom('https://a.example/x', { CRATESYNC_WEBHOOK: 'http://b.example/y' })).toBe('http://b.example/y');
    expect(webhookFrom('https://a.example/x', { CRATESYNC_WEBHOOK: '' })).toBeUndefined();
    expect(() => webhookFrom(undefined, { CRATESYNC_WEBHOOK: 'ftp://SECRET' })).toThrow(/^notify: CRATESYNC_WEBHOOK is not an http:\/\/ or https:\/\/ URL$/);
    expect(isWebhookUrl('javascript:alert(1)')).toBe(false);
  });
});

describe('notifyUploads against a local receiver', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  /** receiver answers each POST with `answer(n)` (n counts from 0) and keeps the bodies. */
  async function receiver(answer: (n: number, res: ServerResponse) => void): Promise<{ url: string; bodies: any[] }> {
    const bodies: any[] = [];
    server = createServer((req: IncomingMessage, res) => {
      let text = '';
      req.setEncoding('utf8').on('data', (s: string) => (text += s));
      req.on('end', () => {
        bodies.push(JSON.parse(text));
        answer(bodies.length - 1, res);
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/api/webhooks/42/SECRET-TOKEN`, bodies };
  }

  it('posts every message in order as { content }, mentions off', async () => {
    const r = await receiver((_, res) => res.writeHead(204).end());
    const all = paths(200, 5);
    const expected = splitMessages('alice@m', all);
    const { messages } = await notifyUploads(r.url, { who: 'alice@m', paths: all });
    expect(messages).toBe(expected.length);
    expect(r.bodies).toEqual(expected.map((content) => ({ content, allowed_mentions: { parse: [] } })));
  });

  it('waits out one 429 for its retry_after, then goes on', async () => {
    const r = await receiver((n, res) => (n === 0 ? res.writeHead(429, { 'content-type': 'application/json' }).end(JSON.stringify({ retry_after: 0.05 })) : res.writeHead(204).end()));
    const { messages } = await notifyUploads(r.url, { who: 'a@b', paths: ['x.mp3'] });
    expect(messages).toBe(1);
    expect(r.bodies).toHaveLength(2);
    expect(r.bodies[1]).toEqual(r.bodies[0]);
  });

  it('a second 429 fails the notification; the error names only scheme and host', async () => {
    const r = await receiver((_, res) => res.writeHead(429, { 'retry-after': '0' }).end());
    const err = await notifyUploads(r.url, { who: 'a@b', paths: ['x.mp3'] }).catch((e: Error) => e);
    expect(r.bodies).toHaveLength(2);
    expect(String(err)).toMatch(/^NotifyError: notify: webhook http:\/\/127\.0\.0\.1:\d+\/… failed: 429$/);
  });

  it('a 500 stops at the first message; a refused connection is named by its code', async () => {
    const r = await receiver((_, res) => res.writeHead(500).end('SECRET-TOKEN echoed'));
    const err = await notifyUploads(r.url, { who: 'a@b', paths: paths(200, 5) }).catch((e: Error) => e);
    expect(r.bodies).toHaveLength(1);
    expect((err as Error).message).toMatch(/failed: 500$/);
    expect((err as Error).message).not.toContain('SECRET');
    await new Promise<void>((res) => server!.close(() => res()));
    server = undefined;
    const gone = await notifyUploads(r.url, { who: 'a@b', paths: ['x.mp3'] }).catch((e: Error) => e);
    expect((gone as Error).message).toMatch(/^notify: webhook http:\/\/127\.0\.0\.1:\d+\/… failed: ECONNREFUSED$/);
  });

  it('nothing uploaded: nothing sent', async () => {
    expect(await notifyUploads('http://127.0.0.1:9/none', { who: 'a@b', paths: [] })).toEqual({ messages: 0 });
  });
});
