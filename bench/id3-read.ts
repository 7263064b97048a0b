/**
 * Reading back the tags of a fixture MP3, so the tag-edit scenario can change
 * a title and a comment and keep every other tag as it was (as a tag editor
 * does). music-metadata reads them; the bench calls it directly, not through
 * cratesync's own tag code.
 */
import type { AudioTags } from '../test/fixtures/tags.js';

/** readId3Tags returns the common tags of the MP3 in `buf` (empty when it has none). */
export async function readId3Tags(buf: Buffer): Promise<AudioTags> {
  const { parseBuffer } = await import('music-metadata');
  const { common } = await parseBuffer(buf, { mimeType: 'audio/mpeg', size: buf.length }, { skipCovers: true, duration: false });
  const tags: AudioTags = {};
  const put = <K extends keyof AudioTags>(k: K, v: AudioTags[K] | null | undefined) => {
    if (v !== undefined && v !== null) tags[k] = v;
  };
  put('title', common.title);
  put('artist', common.artist);
  put('album', common.album);
  put('albumArtist', common.albumartist);
  put('genre', common.genre?.[0]);
  put('year', common.year);
  put('track', common.track.no);
  put('trackTotal', common.track.of);
  put('disc', common.disk.no);
  put('bpm', common.bpm);
  return tags;
}
