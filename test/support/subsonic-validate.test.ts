/**
 * The test validators themselves: a valid answer passes and a broken one
 * fails, for JSON (OpenSubsonic schemas, ajv) and XML (Subsonic 1.16.1 XSD,
 * the real xmllint); what OpenSubsonic adds to the XML is removed, listed,
 * and never hides an error in what the XSD declares.
 */
import { describe, expect, it } from 'vitest';
import { validateJson, validateXml } from './subsonic-validate.js';

const ENVELOPE = { status: 'ok', version: '1.16.1', type: 'cratesync', serverVersion: '0.1.0', openSubsonic: true };
const SONG = { id: 'tr-0123456789abcdef0123', parent: 'al-0123456789abcdef0123', isDir: false, title: 'One', album: 'A', artist: 'B', duration: 301, type: 'music', mediaType: 'song' };
const PLAYLIST = { id: 'pl-0123456789abcdef0123', name: 'Mix', owner: 'alice', public: true, songCount: 1, duration: 301, created: '2026-11-30T10:00:00.000Z', changed: '2026-11-30T10:00:00.000Z' };

describe('validateJson', () => {
  it('passes a valid answer, ok or failed, and one of a method without a schema of its own', () => {
    expect(validateJson('getPlaylist', { 'subsonic-response': { ...ENVELOPE, playlist: { ...PLAYLIST, entry: [SONG] } } })).toEqual([]);
    expect(validateJson('getPlaylists', JSON.stringify({ 'subsonic-response': { ...ENVELOPE, playlists: { playlist: [PLAYLIST] } } }))).toEqual([]);
    expect(validateJson('getPlaylist', { 'subsonic-response': { ...ENVELOPE, status: 'failed', error: { code: 70, message: 'Playlist not found' } } })).toEqual([]);
    expect(validateJson('star', { 'subsonic-response': ENVELOPE })).toEqual([]);
  });

  it('fails a broken one, saying where', () => {
    const { songCount: _gone, ...noCount } = PLAYLIST;
    const errors = validateJson('getPlaylist', { 'subsonic-response': { ...ENVELOPE, playlist: { ...noCount, created: 'yesterday', entry: [{ ...SONG, isDir: 'no' }] } } });
    expect(errors.join('\n')).toMatch(/songCount/);
    expect(errors.join('\n')).toMatch(/\/subsonic-response\/playlist\/created: must match format "date-time"/);
    expect(errors.join('\n')).toMatch(/\/subsonic-response\/playlist\/entry\/0\/isDir: must be boolean/);
    expect(validateJson('ping', { 'subsonic-response': { status: 'ok', version: '1.16.1' } }).join('\n')).toMatch(/openSubsonic/);
    expect(() => validateJson('../x', {})).toThrow(/no such method/);
  });
});

const XML_OK = `<?xml version="1.0" encoding="UTF-8"?>
<subsonic-response xmlns="http://subsonic.org/restapi" status="ok" version="1.16.1" type="cratesync" serverVersion="0.1.0" openSubsonic="true">
  <playlist id="pl-0123456789abcdef0123" name="Mix &amp; More" owner="alice" public="true" songCount="1" duration="301" created="2026-11-30T10:00:00.000Z" changed="2026-11-30T10:00:00.000Z" readonly="false">
    <entry id="tr-0123456789abcdef0123" isDir="false" title="One" duration="301" type="music" mediaType="song" sortName="one">
      <genres name="House"/>
      <artists id="ar-0123456789abcdef0123" name="B"/>
    </entry>
  </playlist>
</subsonic-response>`;

describe('validateXml', () => {
  it('passes a valid answer, after removing and listing what OpenSubsonic adds', async () => {
    expect(await validateXml(XML_OK)).toEqual({
      errors: [],
      extras: [
        'subsonic-response@type',
        'subsonic-response@serverVersion',
        'subsonic-response@openSubsonic',
        'subsonic-response/playlist@readonly',
        'subsonic-response/playlist/entry@mediaType',
        'subsonic-response/playlist/entry@sortName',
        'subsonic-response/playlist/entry/genres',
        'subsonic-response/playlist/entry/artists',
      ],
    });
    const failed = '<subsonic-response xmlns="http://subsonic.org/restapi" status="failed" version="1.16.1"><error code="70" message="not found"/></subsonic-response>';
    expect(await validateXml(failed)).toEqual({ errors: [], extras: [] });
  });

  it('fails a broken one: a required attribute missing, a value out of its type, no namespace', async () => {
    const noTitle = await validateXml(XML_OK.replace(' title="One"', ''));
    expect(noTitle.errors.join('\n')).toMatch(/title.*required/);
    const badBool = await validateXml(XML_OK.replace('isDir="false"', 'isDir="nope"'));
    expect(badBool.errors.join('\n')).toMatch(/isDir/);
    const badStatus = await validateXml(XML_OK.replace('status="ok"', 'status="fine"'));
    expect(badStatus.errors.join('\n')).toMatch(/status/);
    const noNs = await validateXml(XML_OK.replace(' xmlns="http://subsonic.org/restapi"', ''));
    expect(noNs.errors).not.toEqual([]);
  });
});
