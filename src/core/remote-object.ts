/** One object as a listing or stat reports it (the Remote interface is in remote/remote.ts). */
export interface RemoteObject {
  /** Key relative to the remote root, exactly as stored (not normalized). */
  key: string;
  size: number;
  /**
   * Opaque entity tag without quotes. For S3 it is the MD5 of the content for
   * single-part uploads, `md5(part md5s)-N` for multipart ones, or a whole-file
   * MD5 on servers that do so. Folder remotes leave it undefined.
   */
  etag?: string;
  /** Last modification time, when the remote knows it. */
  mtime?: Date;
}
