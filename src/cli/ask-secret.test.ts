import { describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { newPassword, type SecretInput } from './ask-secret.js';
import { UsageError } from '../errors.js';

/** A terminal stand-in: what is typed, whether raw mode is on, and what was shown. */
function terminal() {
  const input = new PassThrough() as PassThrough & SecretInput;
  const raw: boolean[] = [];
  input.isTTY = true;
  input.setRawMode = (on: boolean) => raw.push(on);
  let shown = '';
  const out = { write: (s: string) => void (shown += s) };
  return { input, out, raw, shown: () => shown };
}

/** Types `keys` once the prompt is up (a tick later), as a person would after reading it. */
const typeLater = (input: PassThrough, ...keys: string[]) => {
  let i = 0;
  const next = () => {
    const k = keys[i++];
    if (k !== undefined) setImmediate(() => (input.write(k), next()));
  };
  next();
};

describe('newPassword', () => {
  it('asks twice on a terminal in raw mode, echoing nothing, with backspace', async () => {
    const t = terminal();
    typeLater(t.input, 'hunter', '3\u007f2\r', 'hunter2\r');
    await expect(newPassword(t.input, t.out, { fromStdin: false, what: 'password for alice' })).resolves.toBe('hunter2');
    expect(t.shown()).toBe('password for alice: \npassword for alice again: \n');
    expect(t.raw).toEqual([true, false, true, false]);
  });

  it('refuses two passwords that differ, and Ctrl-C stops', async () => {
    const t = terminal();
    typeLater(t.input, 'one\r', 'two\r');
    await expect(newPassword(t.input, t.out, { fromStdin: false, what: 'pw' })).rejects.toThrow(new UsageError('the two passwords differ; nothing was changed'));
    const u = terminal();
    typeLater(u.input, 'abc\u0003');
    await expect(newPassword(u.input, u.out, { fromStdin: false, what: 'pw' })).rejects.toMatchObject({ name: 'AbortError' });
    expect(u.raw).toEqual([true, false]);
  });

  it('reads the first line of stdin when asked to, or when stdin is no terminal', async () => {
    const piped = new PassThrough();
    piped.end('s3cret with spaces\r\nignored\n');
    await expect(newPassword(piped, { write: () => {} }, { fromStdin: false, what: 'pw' })).resolves.toBe('s3cret with spaces');
    const t = terminal();
    t.input.end('from-stdin\n');
    await expect(newPassword(t.input, t.out, { fromStdin: true, what: 'pw' })).resolves.toBe('from-stdin');
    expect(t.shown()).toBe('');
  });

  it('refuses an empty password and a file piped in by mistake', async () => {
    const empty = new PassThrough();
    empty.end('\n');
    await expect(newPassword(empty, { write: () => {} }, { fromStdin: true, what: 'pw' })).rejects.toThrow('the password is empty');
    const big = new PassThrough();
    big.end('x'.repeat(10_000));
    await expect(newPassword(big, { write: () => {} }, { fromStdin: true, what: 'pw' })).rejects.toThrow('longer than 4096 characters');
  });
});
