import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FolderRemote } from '../remote/folder/folder-remote.js';
import { makeCollectionXml } from '../../test/fixtures/rekordbox.js';
import { downloadCollection, findCollection, pushCollection } from './collection-store.js';
import { listVersions } from './collection-keys.js';
import type { KnownPaths } from './collection-index.js';
import type { Problem } from '../core/problem.js';
import { readFile } from 'node:fs/promises';

const none: KnownPaths = { has: () => false, byNameSize: () => [], withMd5: () => [], folded: () => undefined };
const xml = (title: string) => makeCollectionXml({ root: '/Volumes/USB', tracks: [{ rel: `A/${title}.mp3` }], playlists: [{ path: 'P', rels: [`A/${title}.mp3`] }] });

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'cs-coll-'));
  const remote = new FolderRemote(join(dir, 'remote'), { createRoot: true });
  const file = join(dir, 'rekordbox.xml');
  return { dir, remote, file };
}

describe('collections on a remote', () => {
  it("keeps the collection another tool stored before replacing it, and versions every push", async () => {
    const { dir, remote, file } = await setup();
    await remote.put('collections/alice/rekordbox_collection', { data: Buffer.from(xml('djtools')) });
    await writeFile(file, xml('first'));
    const first = await pushCollection({ remote, xmlFile: file, user: 'alice', writer: 'alice@m', known: () => none, tmpDir: dir });
    expect(first.kept).toMatch(/^\.cratesync\/collections\/alice\/.*Z\.xml$/);
    expect(first.unmatched).toHaveLength(1);
    await writeFile(file, xml('second'));
    const second = await pushCollection({ remote, xmlFile: file, user: 'alice', writer: 'alice@m', known: () => none, tmpDir: dir, now: new Date(Date.now() + 10) });
    expect(second.kept).toBeUndefined();
    const versions = await listVersions(remote, 'alice');
    expect(versions.map((v) => [v.key.endsWith('.gz'), Boolean(v.index)])).toEqual([
      [false, false],
      [true, true],
      [true, true],
    ]);
    // Each kept version reads back as it was pushed.
    const problems: Problem[] = [];
    const old = await findCollection(remote, 'alice', { version: versions[1]!.version, problems });
    await downloadCollection(remote, old, join(dir, 'out.xml'));
    expect(await readFile(join(dir, 'out.xml'), 'utf8')).toBe(xml('first'));
    const current = await findCollection(remote, 'alice', { problems });
    expect(current.version).toBe(versions[2]!.version);
    expect(current.index?.tracks[0]?.name).toBe('second');
    // A current object replaced by another tool since has no index of ours.
    await remote.put('collections/alice/rekordbox_collection', { data: Buffer.from(xml('djtools again')) });
    expect((await findCollection(remote, 'alice', { problems })).index).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it("reads DJ-Tools' older key, and names the user when there is no collection", async () => {
    const { remote } = await setup();
    await remote.put('xml/carol/rekordbox.xml', { data: Buffer.from(xml('old')) });
    expect((await findCollection(remote, 'carol', { problems: [] })).key).toBe('xml/carol/rekordbox.xml');
    await expect(findCollection(remote, 'dave', { problems: [] })).rejects.toThrow(/dave has no collection on/);
    await expect(findCollection(remote, 'carol', { version: '2020-01-01T00-00-00.000Z', problems: [] })).rejects.toThrow(/carol has no collection version/);
  });
});
