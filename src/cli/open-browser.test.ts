/** Which program opens a link on each system, with the link as one argument of its own. */
import { describe, expect, it } from 'vitest';
import { browserCommand } from './open-browser.js';

const URL = 'http://127.0.0.1:4321/login/AbC-_09';

describe('browserCommand', () => {
  it('xdg-open on Linux and the BSDs, open on macOS, the URL as its one argument', () => {
    expect(browserCommand(URL, 'linux')).toEqual({ command: 'xdg-open', args: [URL] });
    expect(browserCommand(URL, 'freebsd')).toEqual({ command: 'xdg-open', args: [URL] });
    expect(browserCommand(URL, 'darwin')).toEqual({ command: 'open', args: [URL] });
  });

  it('start on Windows, with an empty title first so the URL is not taken for one', () => {
    expect(browserCommand(URL, 'win32')).toEqual({ command: 'cmd', args: ['/d', '/c', 'start', '""', URL] });
  });

  it('refuses on Windows a URL with characters cmd would interpret', () => {
    for (const bad of [`${URL}&calc`, `${URL}|x`, `${URL}"`, `${URL} x`, `${URL}^`, `${URL}%PATH%`, 'file:///c:/x']) {
      expect(() => browserCommand(bad, 'win32'), bad).toThrow(/cmd would interpret/);
    }
  });
});
