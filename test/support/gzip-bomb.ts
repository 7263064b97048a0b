/** What the catalog's tests share: a gzip bomb made without holding its inflated size in memory. */
import { createGzip } from 'node:zlib';

/**
 * gzipBomb is `json` followed by whitespace up to `inflated` bytes, gzipped:
 * a valid JSON document (whitespace is allowed after it) that inflates to
 * `inflated` bytes from about a thousandth of that. Made a MiB at a time.
 */
export async function gzipBomb(json: string, inflated: number): Promise<Buffer> {
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  gz.write(json);
  const chunk = Buffer.alloc(1024 * 1024, ' ');
  for (let left = inflated - json.length; left > 0; left -= chunk.length) {
    if (!gz.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => gz.once('drain', r));
  }
  gz.end();
  await done;
  return Buffer.concat(out);
}
