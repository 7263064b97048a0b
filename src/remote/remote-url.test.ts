import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { FolderRemote } from './folder/folder-remote.js';
import { openRemote } from './remote-url.js';

describe('openRemote', () => {
  it('opens s3:// URLs as S3 remotes', async () => {
    const remote = await openRemote('s3://bucket/dj', { endpoint: 'http://127.0.0.1:1', transfers: 2 });
    expect(remote.kind).toBe('s3');
    expect(remote.url).toBe('s3://bucket/dj');
    await remote.close();
  });

  it('opens file:// URLs and paths as folder remotes', async () => {
    const abs = path.resolve('/tmp/cratesync music');
    const byUrl = await openRemote('file:///tmp/cratesync%20music');
    expect(byUrl).toBeInstanceOf(FolderRemote);
    expect((byUrl as FolderRemote).root).toBe(abs);
    expect(((await openRemote(abs)) as FolderRemote).root).toBe(abs);
    expect(((await openRemote('rel/dir')) as FolderRemote).root).toBe(path.resolve('rel/dir'));
    expect(((await openRemote('~/Music')) as FolderRemote).root).toBe(path.join(homedir(), 'Music'));
    expect(((await openRemote('~')) as FolderRemote).root).toBe(homedir());
    expect(byUrl.url).toBe('file:///tmp/cratesync%20music');
  });

  it('refuses unknown schemes, naming the URL', async () => {
    await expect(openRemote('ftp://host/music')).rejects.toThrow(UsageError);
    await expect(openRemote('gs://bucket/x')).rejects.toThrow('gs://bucket/x');
    await expect(openRemote('')).rejects.toThrow(UsageError);
  });

  it('refuses a malformed endpoint when the remote is opened, naming where it was given', async () => {
    await expect(openRemote('s3://bucket/dj', { endpoint: 'not a url', endpointFrom: '--endpoint' })).rejects.toThrow(/^--endpoint "not a url" is not a URL/);
    await expect(openRemote('s3://bucket/dj', { endpoint: 'ftp://h/x' })).rejects.toThrow(UsageError);
    await expect(openRemote('s3://bucket/dj', { endpoint: 'http://' })).rejects.toThrow(UsageError);
  });
});
