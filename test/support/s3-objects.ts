/**
 * Looking at an S3 bucket behind the CLI's back, with the SDK the CLI uses:
 * which keys a prefix holds (with their ETags), what an object holds, and
 * the remote catalog's log objects, decoded (gunzip, JSON).
 */
import { S3Client, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';

export function s3Client(endpoint: string): S3Client {
  return new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
}

/** listObjects maps every key under `prefix` (full keys) to its ETag (quotes removed). */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.set(o.Key ?? '', (o.ETag ?? '').replace(/"/g, ''));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

export async function getObject(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

export async function putObject(s3: S3Client, bucket: string, key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

export interface LogEntry {
  op: 'put' | 'del';
  key: string;
  size?: number;
  md5?: string;
  etag?: string;
  audioHash?: string;
  tags?: Record<string, unknown>;
  at: number;
}

export interface LogObject {
  key: string;
  doc: { v: number; writer: string; entries: LogEntry[] };
}

/** catalogLogs reads every log object under `<root>/.cratesync/catalog/log/`, oldest key first. */
export async function catalogLogs(s3: S3Client, bucket: string, root: string): Promise<LogObject[]> {
  const keys = [...(await listObjects(s3, bucket, `${root}/.cratesync/catalog/log/`)).keys()].sort();
  const out: LogObject[] = [];
  for (const key of keys) out.push({ key, doc: JSON.parse(gunzipSync(await getObject(s3, bucket, key)).toString('utf8')) as LogObject['doc'] });
  return out;
}
