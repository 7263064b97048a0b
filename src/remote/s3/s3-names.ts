/**
 * Which keys an S3 remote can hold.
 */

/** S3 caps a key (the remote's prefix included) at 1024 bytes of UTF-8. */
const MAX_KEY_BYTES = 1024;

/**
 * checkS3Key returns why `prefix + key` cannot be stored (and listed back
 * intact) in S3, or undefined when it can.
 */
export function checkS3Key(prefix: string, key: string): string | undefined {
  if (key === '') return 'the name is empty';
  // Listings skip such keys: other tools use them as folder markers.
  if (key.endsWith('/')) return "the name ends with '/'";
  // ListObjectsV2 answers in XML 1.0, which cannot carry most control characters.
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'the name contains a control character';
  const bytes = Buffer.byteLength(prefix + key);
  if (bytes > MAX_KEY_BYTES) return `the key is ${bytes} bytes long with the prefix; S3 allows ${MAX_KEY_BYTES}`;
  return undefined;
}
