/**
 * Opening a remote from the URL a user typed: `s3://bucket[/prefix]`, a
 * `file://` URL, or a plain folder path. The S3 modules (and with them the
 * AWS SDK) are imported only when an S3 URL is opened.
 */
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { expandHome } from '../config/paths.js';
import { FolderRemote } from './folder/folder-remote.js';
import type { Remote } from './remote.js';

export interface OpenRemoteOptions {
  /** S3 endpoint URL (S3-compatible servers); see s3-client.ts for the fallbacks. */
  endpoint?: string;
  /** Where `endpoint` was given (`--endpoint`, `endpoint in <config file>`), named when it is malformed. */
  endpointFrom?: string;
  /** AWS profile for credentials. */
  profile?: string;
  region?: string;
  /** Files transferred at once; sizes the S3 connection pool. */
  transfers?: number;
  /**
   * May a folder remote's missing root be created? True for the embedded
   * default; false for folders the user named, where a missing root more
   * likely means an unmounted disk than a wish for a new folder.
   */
  createRoot?: boolean;
}

/**
 * A scheme is letters followed by '://'. Requiring the slashes and two or more
 * letters keeps Windows drive paths (`C:\Music`, `C:/Music`) plain paths.
 */
const SCHEME_RE = /^([a-z][a-z0-9+.-]+):\/\//i;

/**
 * openRemote returns the remote `url` names. Relative folder paths are
 * resolved against the current directory and a leading `~` is expanded.
 * Throws UsageError for an unknown scheme or a malformed URL. Opening does no
 * I/O: a missing folder or bucket shows on first use.
 */
export async function openRemote(url: string, options: OpenRemoteOptions = {}): Promise<Remote> {
  const scheme = SCHEME_RE.exec(url)?.[1]?.toLowerCase();
  if (scheme === 's3') {
    const [{ parseS3Url }, { S3Remote }] = await Promise.all([import('./s3/s3-url.js'), import('./s3/s3-remote.js')]);
    return new S3Remote({ ...parseS3Url(url), ...options });
  }
  if (scheme === 'file') {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (err) {
      throw new UsageError(`invalid file URL ${url}: expected file:///absolute/path`, { cause: err });
    }
    return new FolderRemote(dir, { createRoot: options.createRoot ?? false });
  }
  if (scheme !== undefined) throw new UsageError(`unsupported remote URL ${url}: use s3://bucket/prefix, file:///path or a folder path`);
  if (url.trim() === '') throw new UsageError('the remote is empty: give s3://bucket/prefix or a folder path');
  return new FolderRemote(expandHome(url), { createRoot: options.createRoot ?? false });
}
