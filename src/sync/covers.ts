/**
 * Sending embedded covers to a remote: once a song is uploaded, its cover
 * (Tags.cover, kept in the local cover store when the file was hashed) is
 * stored at `.cratesync/covers/<name>` unless it is there already. Covers
 * are named by their content, so one stored is never sent again: the state
 * remembers what each remote has (state/cover-uploads.ts), and the remote is
 * asked before sending. A cover that cannot be sent is a problem reported,
 * never a failed song.
 */
import type { Remote } from '../remote/remote.js';
import type { Problem } from '../core/problem.js';
import type { CoverUploads } from '../state/cover-uploads.js';
import { COVERS_PREFIX, isCoverName } from '../core/cover-name.js';
import { readCover } from '../library/cover-store.js';
import { describe, NotFoundError, PreconditionError } from '../errors.js';

export class CoverUploader {
  /** Covers being sent now: an album's songs share one, and it goes once. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly remote: Remote,
    private readonly known: CoverUploads,
    /** The local cover store (see library/cover-store.ts). */
    private readonly coversDir: string,
    /** Hears why a cover was not sent. */
    private readonly report: (p: Problem) => void,
  ) {}

  /**
   * ensure makes sure cover `name`, the cover of library file `path`, is on
   * the remote. Never rejects: what goes wrong is reported (naming `path`),
   * and the next song with this cover tries again.
   */
  ensure(name: string, path: string, signal?: AbortSignal): Promise<void> {
    if (!isCoverName(name) || this.known.has(name)) return Promise.resolve();
    let p = this.inFlight.get(name);
    if (!p) {
      p = this.send(name, path, signal)
        .catch((err: unknown) => {
          if (!signal?.aborted) this.report({ path, message: `its cover was not sent to the remote (the next upload of a song with it retries): ${describe(err)}` });
        })
        .finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, p);
    }
    return p;
  }

  private async send(name: string, path: string, signal?: AbortSignal): Promise<void> {
    const key = COVERS_PREFIX + name;
    const there = await this.remote.stat(key).then(
      () => true,
      (err: unknown) => {
        if (err instanceof NotFoundError) return false;
        throw err;
      },
    );
    if (!there) {
      const data = await readCover(this.coversDir, name);
      if (!data) {
        this.report({ path, message: `its cover ${name} is not in the local cover store (${this.coversDir}): not sent to the remote` });
        return;
      }
      try {
        await this.remote.put(key, { data }, { ifAbsent: true, ...(signal ? { signal } : {}) });
      } catch (err) {
        // Another machine sent it meanwhile: by its name, the very same bytes.
        if (!(err instanceof PreconditionError)) throw err;
      }
    }
    this.known.add(name);
  }
}
