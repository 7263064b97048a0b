/**
 * Reading a password for the command line, never from argv (where `ps` and
 * the shell history would show it): from a terminal without echo, or from
 * stdin when it is piped (or `--password-stdin` says so).
 */
import { UsageError } from '../errors.js';
import type { Out } from './progress.js';

/** What a password is read from: process.stdin, or a stand-in in tests. */
export interface SecretInput extends NodeJS.ReadableStream {
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
}

/** The longest password taken from stdin: more is a mistake (a file piped in), not a password. */
const MAX_STDIN = 4096;

/**
 * newPassword reads a new password: with `fromStdin`, or when `input` is no
 * terminal, the first line of `input`; on a terminal, asked twice without
 * echo (prompts on `out`). Throws UsageError when it is empty, too long, or
 * the two do not match; an Error named AbortError on Ctrl-C.
 */
export async function newPassword(input: SecretInput, out: Out, o: { fromStdin: boolean; what: string }): Promise<string> {
  let password: string;
  if (o.fromStdin || !input.isTTY) {
    password = await firstLine(input);
  } else {
    password = await askHidden(input, out, `${o.what}: `);
    const again = await askHidden(input, out, `${o.what} again: `);
    if (again !== password) throw new UsageError('the two passwords differ; nothing was changed');
  }
  if (password === '') throw new UsageError('the password is empty; nothing was changed');
  return password;
}

/** firstLine reads `input` to its end and returns its first line (without the line end). */
async function firstLine(input: SecretInput): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.length > MAX_STDIN) throw new UsageError(`the password read from stdin is longer than ${MAX_STDIN} characters`);
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** askHidden asks on a terminal in raw mode, echoing nothing, until Enter. */
function askHidden(input: SecretInput, out: Out, prompt: string): Promise<string> {
  out.write(prompt);
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err?: Error) => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      input.pause();
      out.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || (ch === '\u0004' && typed === '')) return done();
        if (ch === '\u0003') {
          const abort = new Error('interrupted');
          abort.name = 'AbortError';
          return done(abort);
        }
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    input.setRawMode?.(true);
    input.on('data', onData);
    input.resume();
  });
}
