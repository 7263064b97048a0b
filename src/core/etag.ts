/**
 * S3 entity tags and content MD5s. A single-part upload's ETag is the MD5 of
 * the content; a multipart one is `md5(concat(part md5s))-N`, which depends on
 * the part size the uploader chose (aws-cli: 8 MiB, rclone: 5 MiB). Some
 * servers (s3rver) give the whole-content MD5 for multipart uploads too.
 * These helpers let the engine recognise objects uploaded by other tools
 * without downloading them.
 */
import { createHash, type Hash } from 'node:crypto';

const MiB = 1024 * 1024;

/** A parsed ETag: `md5` when it is a plain content MD5, else the part count. */
export interface ParsedEtag {
  md5?: string;
  parts?: number;
  digest?: string;
}

/** parseEtag reads an ETag with or without quotes; unknown forms give `{}`. */
export function parseEtag(etag: string | undefined): ParsedEtag {
  if (!etag) return {};
  const e = etag.replace(/"/g, '').toLowerCase();
  if (/^[0-9a-f]{32}$/.test(e)) return { md5: e };
  const m = /^([0-9a-f]{32})-(\d+)$/.exec(e);
  if (m) return { digest: m[1], parts: Number(m[2]) };
  return {};
}

/** Part sizes tried first when guessing how a multipart object was cut. */
const COMMON_PART_SIZES = [8, 5, 16, 10, 15, 32, 64, 100, 128, 256, 512].map((n) => n * MiB);

/**
 * partSizeCandidates lists the part sizes (whole MiB, common ones first) that
 * cut an object of `size` bytes into exactly `parts` parts.
 */
export function partSizeCandidates(size: number, parts: number): number[] {
  const fits = (p: number) => Math.ceil(size / p) === parts;
  const out = COMMON_PART_SIZES.filter(fits);
  if (parts === 1) return out.length > 0 ? out : [Math.max(size, 5 * MiB)];
  const lo = Math.max(1, Math.ceil(size / parts / MiB));
  const hi = Math.floor((size - 1) / (parts - 1) / MiB);
  for (let m = lo; m <= hi && out.length < 8; m++) if (!out.includes(m * MiB) && fits(m * MiB)) out.push(m * MiB);
  return out;
}

/**
 * Md5Parts hashes a byte stream once, giving the whole-content MD5 and, for a
 * chosen part size, the multipart ETag an uploader using that size would get.
 */
export class Md5Parts {
  private readonly whole: Hash = createHash('md5');
  private part: Hash = createHash('md5');
  private partFill = 0;
  private readonly partDigests: Buffer[] = [];

  constructor(private readonly partSize?: number) {}

  update(chunk: Uint8Array): void {
    this.whole.update(chunk);
    if (!this.partSize) return;
    let off = 0;
    while (off < chunk.length) {
      const take = Math.min(this.partSize - this.partFill, chunk.length - off);
      this.part.update(chunk.subarray(off, off + take));
      this.partFill += take;
      off += take;
      if (this.partFill === this.partSize) this.closePart();
    }
  }

  /** Finishes hashing; `etag` is set only when a part size was given. */
  digest(): { md5: string; etag?: string } {
    const md5 = this.whole.digest('hex');
    if (!this.partSize) return { md5 };
    if (this.partFill > 0 || this.partDigests.length === 0) this.closePart();
    return { md5, etag: multipartEtag(this.partDigests) };
  }

  private closePart(): void {
    this.partDigests.push(this.part.digest());
    this.part = createHash('md5');
    this.partFill = 0;
  }
}

/** multipartEtag combines raw part MD5 digests the way S3 does. */
export function multipartEtag(partDigests: readonly Buffer[]): string {
  const h = createHash('md5');
  for (const d of partDigests) h.update(d);
  return `${h.digest('hex')}-${partDigests.length}`;
}

/** md5Base64 converts a hex MD5 to the base64 form of a Content-MD5 header. */
export function md5Base64(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64');
}
