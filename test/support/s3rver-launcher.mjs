// Runs s3rver in its own process for the tests (see s3rver.ts). Must be run
// as `node --openssl-legacy-provider s3rver-launcher.mjs <directory>`:
// s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 20's
// OpenSSL 3 refuses without the legacy provider, so any listing past 1,000
// keys would answer InternalError.
//
// Prints one line of JSON, {"port": N}, once listening on 127.0.0.1 (port
// chosen by the OS), and exits when stdin closes (the test process is gone)
// or on SIGTERM.
//
// With --fix-delete-race (the bench uses it): s3rver 3.7 removes a folder
// left empty by a delete, and when two deletes empty the same folder at once
// one of them loses the race (ENOENT, ENOTEMPTY) and is answered 500
// InternalError, although its object is gone. S3 has no folders and never
// does that; the fix ignores those two errors of the clean-up, so tools that
// delete in parallel (aws s3 sync --delete, rclone sync) are measured against
// a server that answers correctly.
import S3rver from 's3rver';
import FilesystemStore from 's3rver/lib/stores/filesystem.js';

const [directory, ...flags] = process.argv.slice(2);
if (!directory || flags.some((f) => f !== '--fix-delete-race')) {
  process.stderr.write('usage: s3rver-launcher.mjs <directory> [--fix-delete-race]\n');
  process.exit(2);
}
if (flags.includes('--fix-delete-race')) {
  const deleteObject = FilesystemStore.prototype.deleteObject;
  FilesystemStore.prototype.deleteObject = async function (bucket, key) {
    try {
      await deleteObject.call(this, bucket, key);
    } catch (err) {
      // The object's files are unlinked before the folders are cleaned up: only the clean-up can fail so.
      if (err?.code !== 'ENOENT' && err?.code !== 'ENOTEMPTY') throw err;
    }
  };
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  // s3rver only verifies V2 signatures; V4 requests (the SDK's) pass anyway,
  // and with this a body corrupted on the way still reaches the server, so
  // the remote's ETag checks are what catches it.
  allowMismatchedSignatures: true,
  vhostBuckets: false,
});

const { port } = await server.run();
process.stdout.write(`${JSON.stringify({ port })}\n`);

const stop = () => {
  server.close().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.stdin.on('end', stop);
process.stdin.resume();
