import { describe, expect, it } from 'vitest';
import { xmlProblems } from '../../test/support/xmllint.js';
import { SubsonicError, notFound } from './api-error.js';
import { paramsOf } from './params.js';
import { errorResponse, escapeXml, okResponse, responseFormat, toXml } from './subsonic-response.js';

const q = (s: string) => paramsOf(new URLSearchParams(s));
const ENV = { status: 'ok', version: '1.16.1', type: 'cratesync', serverVersion: '9.9.9', openSubsonic: true };

// Strings as a shared bucket's tags may hold them: markup, quotes, controls, lone surrogates.
const NASTY = `a&b <c> "d" 'e' \u0000\u0001\u0008\u000B\u000C\u001F\uFFFE\uFFFF \uD800 x\uDC00 tab\there\nline\r end 🎵`;

const album = {
  album: {
    id: 'al-0123456789abcdef0123',
    name: NASTY,
    songCount: 2,
    starred: undefined,
    genres: [{ name: 'Rock' }, { name: 'Pop' }],
    song: [
      { id: 'tr-1', title: NASTY, isDir: false, duration: 12.5 },
      { id: 'tr-2', title: 'two', isDir: false, year: null },
    ],
  },
};

describe('subsonic response', () => {
  it('writes a payload as XML by the one rule: scalars as attributes, objects as elements, arrays repeated', () => {
    const xml = toXml(ENV, { album: { id: 'al-1', songCount: 2, song: [{ id: 'tr-1' }, { id: 'tr-2' }], genres: [{ name: 'Rock' }] } });
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
        '<subsonic-response xmlns="http://subsonic.org/restapi" status="ok" version="1.16.1" type="cratesync" serverVersion="9.9.9" openSubsonic="true">' +
        '<album id="al-1" songCount="2"><song id="tr-1"/><song id="tr-2"/><genres name="Rock"/></album></subsonic-response>',
    );
  });

  it('writes a field named value as the element text, and scalars in an array as elements with text', () => {
    const xml = toXml(ENV, {
      lyricsList: { structuredLyrics: [{ lang: 'eng', synced: false, line: [{ value: 'la & la' }] }] },
      openSubsonicExtensions: [{ name: 'formPost', versions: [1, 2] }],
    });
    expect(xml).toContain('<structuredLyrics lang="eng" synced="false"><line>la &amp; la</line></structuredLyrics>');
    expect(xml).toContain('<openSubsonicExtensions name="formPost"><versions>1</versions><versions>2</versions></openSubsonicExtensions>');
  });

  it('escapes markup and drops the characters XML 1.0 forbids, keeping the rest (xmllint agrees it is well-formed)', () => {
    const xml = toXml(ENV, album);
    expect(xmlProblems(xml)).toBe('');
    expect(xml).not.toMatch(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/);
    expect(xml).toContain('name="a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;');
    expect(xml).toContain('tab&#9;here&#10;line&#13; end 🎵');
    expect(xml).not.toContain('starred');
    expect(xml).not.toContain('year');
    expect(toXml(ENV, { playlists: { playlist: [] } })).toContain('<playlists/>');
    expect(escapeXml('x\uD800y\uDFFFz\uD83C\uDFB5')).toBe('xyz🎵');
  });

  it('keeps the text of a value element (lyrics) well-formed too', () => {
    const xml = toXml(ENV, { lyrics: { artist: 'A', title: 'T', value: `${NASTY}\nsecond line` } });
    expect(xmlProblems(xml)).toBe('');
    expect(xml).toContain('\nsecond line</lyrics>');
  });

  it('refuses a field name that is no XML name (a handler bug), rather than writing broken XML', () => {
    expect(() => toXml(ENV, { 'bad name': { x: 1 } })).toThrow(/no XML name/);
    expect(() => toXml(ENV, { album: { 'a"b': 1 } })).toThrow(/no XML name/);
  });

  it('answers XML by default with its content type', async () => {
    const res = okResponse(album, responseFormat(q('')), '1.2.3');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const xml = await res.text();
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<subsonic-response xmlns="http:\/\/subsonic.org\/restapi" status="ok" version="1.16.1" type="cratesync" serverVersion="1.2.3" openSubsonic="true">/);
    expect(xmlProblems(xml)).toBe('');
  });

  it('answers f=json as the envelope with the payload inside it', async () => {
    const res = okResponse({ album: { id: 'al-1', name: NASTY } }, responseFormat(q('f=json')), '1.2.3');
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as Record<string, Record<string, unknown>>;
    expect(body['subsonic-response']).toEqual({ status: 'ok', version: '1.16.1', type: 'cratesync', serverVersion: '1.2.3', openSubsonic: true, album: { id: 'al-1', name: NASTY } });
  });

  it('answers f=jsonp as a call of the callback, and refuses a callback that is no plain name', async () => {
    const res = okResponse({}, responseFormat(q('f=jsonp&callback=cb.x_1$')), '1.2.3');
    expect(res.headers.get('content-type')).toBe('application/javascript');
    const text = await res.text();
    expect(text).toMatch(/^\/\*\*\/cb\.x_1\$\(\{"subsonic-response":\{"status":"ok".*\}\}\);$/);
    expect(() => responseFormat(q('f=jsonp&callback=alert(1)'))).toThrow(expect.objectContaining({ code: 0 }));
    expect(() => responseFormat(q('f=jsonp&callback=1abc'))).toThrow(expect.objectContaining({ code: 0 }));
    expect(() => responseFormat(q('f=jsonp'))).toThrow(expect.objectContaining({ code: 10 }));
  });

  it('escapes U+2028 and U+2029 in JSONP, which end a line in older script engines', async () => {
    const text = await okResponse({ a: { t: 'x\u2028y\u2029' } }, { kind: 'jsonp', callback: 'cb' }, '1').text();
    expect(text).toContain('x\\u2028y\\u2029');
  });

  it('answers an error as HTTP 200, status failed, with code and message', async () => {
    const xml = await errorResponse(notFound('Album'), { kind: 'xml' }, '1').text();
    expect(xml).toContain('status="failed"');
    expect(xml).toContain('<error code="70" message="Album not found"/>');
    expect(xmlProblems(xml)).toBe('');
    const res = errorResponse(new SubsonicError(40, 'Wrong username or password'), { kind: 'json' }, '1');
    expect(res.status).toBe(200);
    expect(((await res.json()) as Record<string, unknown>)['subsonic-response']).toMatchObject({ status: 'failed', error: { code: 40, message: 'Wrong username or password' } });
  });
});
