import { afterAll } from 'vitest';
import { startS3rver, type S3rver } from '../../../test/support/s3rver.js';
import { describeRemoteConformance } from '../remote-conformance.js';
import { S3Remote } from './s3-remote.js';

// s3rver's built-in account; this test file runs in its own process.
process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
delete process.env.AWS_SESSION_TOKEN;
delete process.env.AWS_PROFILE;

const MiB = 1024 * 1024;
let server: S3rver | undefined;
let buckets = 0;
afterAll(() => server?.stop());

describeRemoteConformance('S3Remote on s3rver', async () => {
  server ??= await startS3rver();
  const bucket = `conformance-${++buckets}`;
  await server.createBucket(bucket);
  // Small parts so the 12 MiB conformance body goes multipart.
  const remote = new S3Remote({ bucket, prefix: 'music/', endpoint: server.endpoint, multipartThreshold: 8 * MiB, partSize: 5 * MiB });
  return { remote, cleanup: async () => {} };
});
