import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeRemoteConformance } from '../remote-conformance.js';
import { FolderRemote } from './folder-remote.js';

describeRemoteConformance('FolderRemote', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cratesync-folder-remote-'));
  // A root that does not exist yet: the first put must create it.
  const remote = new FolderRemote(path.join(dir, 'remote'));
  return { remote, cleanup: () => rm(dir, { recursive: true, force: true }) };
});
