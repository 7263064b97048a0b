/**
 * What the media players' end-to-end tests share: one s3rver per test file,
 * a bucket (and a CLI home) per test, and reading back what cratesync
 * published there — the player metadata in the catalog logs, the playlists.
 */
import { afterAll, beforeAll } from 'vitest';
import type Database from 'better-sqlite3';
import type { S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rver } from './s3rver.js';
import { catalogLogs, getObject, listObjects, s3Client } from './s3-objects.js';
import type { CliEnv } from './cli.js';

export const S3RVER_CREDS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_PROFILE: undefined };

export interface PlayerRemote {
  readonly server: S3rver;
  readonly s3: S3Client;
  /** A new bucket, the remote URL of `dj/` in it, and a CLI env (its own home) that reaches it. */
  bucket(): Promise<{ bucket: string; url: string; e: CliEnv }>;
  /** The newest player metadata the catalog holds per music key (a key removed since drops out). */
  catalogMeta(bucket: string): Promise<Map<string, Record<string, unknown>>>;
  /** The entries (not the #EXT lines) of a playlist on the remote. */
  m3uEntries(bucket: string, key: string): Promise<string[]>;
  /** The playlist keys under `dj/playlists/`, sorted. */
  playlistKeys(bucket: string): Promise<string[]>;
}

/** usePlayerRemote starts an s3rver for the test file (and stops it after); `home` makes a fresh CLI home. */
export function usePlayerRemote(prefix: string, home: () => Promise<string>): PlayerRemote {
  let server: S3rver | undefined;
  let s3: S3Client | undefined;
  let buckets = 0;
  beforeAll(async () => {
    server = await startS3rver();
    s3 = s3Client(server.endpoint);
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
  });
  const r: PlayerRemote = {
    get server() {
      if (!server) throw new Error('s3rver not started yet');
      return server;
    },
    get s3() {
      if (!s3) throw new Error('s3rver not started yet');
      return s3;
    },
    async bucket() {
      const name = `${prefix}${++buckets}`;
      await r.server.createBucket(name);
      return { bucket: name, url: `s3://${name}/dj`, e: { home: await home(), env: { ...S3RVER_CREDS, AWS_ENDPOINT_URL: r.server.endpoint } } };
    },
    async catalogMeta(bucket) {
      const out = new Map<string, Record<string, unknown>>();
      for (const log of await catalogLogs(r.s3, bucket, 'dj')) {
        for (const e of log.doc.entries as Array<{ op: string; key: string; player?: Record<string, unknown> }>) {
          if (e.op === 'put' && e.player) out.set(e.key, e.player);
          else if (e.op !== 'put') out.delete(e.key);
        }
      }
      return out;
    },
    async m3uEntries(bucket, key) {
      return (await getObject(r.s3, bucket, key)).toString('utf8').split('\n').filter((l) => l && !l.startsWith('#'));
    },
    async playlistKeys(bucket) {
      return [...(await listObjects(r.s3, bucket, 'dj/playlists/')).keys()].sort();
    },
  };
  return r;
}

/** A database's schema as sqlite_master holds it: what detach must leave as it was. */
export const schemaOf = (db: Database.Database) => db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();
