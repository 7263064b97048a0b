// Runs s3rver in its own process for the tests (see s3rver.ts). Must be run
// as `node --openssl-legacy-provider s3rver-launcher.mjs <directory>`:
// s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 20's
// OpenSSL 3 refuses without the legacy provider, so any listing past 1,000
// keys would answer InternalError.
//
// Prints one line of JSON, {"port": N}, once listening on 127.0.0.1 (port
// chosen by the OS), and exits when stdin closes (the test process is gone)
// or on SIGTERM.
import S3rver from 's3rver';

const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: s3rver-launcher.mjs <directory>\n');
  process.exit(2);
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
