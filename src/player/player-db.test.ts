import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyPlayerFixture } from '../../test/fixtures/players/queue-db.js';
import { FileError } from '../errors.js';
import { clementine } from './adapters/clementine.js';
import { strawberry } from './adapters/strawberry.js';
import { openPlayerDb, withBusyRetry } from './player-db.js';
import { attachQueue, detachQueue } from './player-queue.js';

function fileErrorOf(fn: () => unknown): FileError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FileError);
    return err as FileError;
  }
  throw new Error('no error thrown');
}

describe('openPlayerDb', () => {
  it('refuses a missing file, naming it', () => {
    const file = join(copyPlayerFixture('strawberry-1.0.14.db'), '..', 'nope.db');
    const err = fileErrorOf(() => openPlayerDb(file, strawberry));
    expect(err.path).toBe(file);
    expect(err.message.startsWith(`${file}: `)).toBe(true);
  });

  it('refuses a file that is not SQLite, naming it', () => {
    const file = join(copyPlayerFixture('strawberry-1.0.14.db'), '..', 'notes.db');
    writeFileSync(file, 'these are not the pages you are looking for\n'.repeat(100));
    const err = fileErrorOf(() => openPlayerDb(file, strawberry));
    expect(err.path).toBe(file);
    expect(err.message).toMatch(/not an SQLite database/);
  });

  it("refuses another player's database, naming the file and what is missing", () => {
    const file = copyPlayerFixture('clementine-1.4.db');
    const err = fileErrorOf(() => openPlayerDb(file, strawberry));
    expect(err.message).toBe(`${file}: not a Strawberry database: table songs has no column url`);
    const other = copyPlayerFixture('strawberry-1.0.14.db');
    expect(fileErrorOf(() => openPlayerDb(other, clementine)).message).toBe(
      `${other}: not a Clementine database: table songs has no column filename`,
    );
  });

  it('changes nothing the file persists: header (journal mode, page size, versions) as the player left it', () => {
    const file = copyPlayerFixture('strawberry-1.0.14.db');
    const header = readFileSync(file).subarray(0, 100);
    const db = openPlayerDb(file, strawberry);
    attachQueue(db, strawberry);
    detachQueue(db);
    db.close();
    const after = readFileSync(file).subarray(0, 100);
    // Bytes 18–19: the journal mode (1 rollback, 2 WAL); 16–17 page size; 60–63 user_version.
    expect(after.subarray(16, 20)).toEqual(header.subarray(16, 20));
    expect(after.subarray(60, 64)).toEqual(header.subarray(60, 64));
  });
});

describe('withBusyRetry', () => {
  it('runs again after SQLITE_BUSY and SQLITE_LOCKED, not after other errors, and gives up after `tries`', async () => {
    const busy = (code: string) => Object.assign(new Error(code), { code });
    let n = 0;
    await expect(
      withBusyRetry(() => {
        n++;
        if (n === 1) throw busy('SQLITE_BUSY');
        if (n === 2) throw busy('SQLITE_LOCKED_SHAREDCACHE');
        return 'done';
      }),
    ).resolves.toBe('done');
    expect(n).toBe(3);

    n = 0;
    await expect(
      withBusyRetry(() => {
        n++;
        throw busy('SQLITE_CORRUPT');
      }),
    ).rejects.toThrow('SQLITE_CORRUPT');
    expect(n).toBe(1);

    n = 0;
    await expect(
      withBusyRetry(
        () => {
          n++;
          throw busy('SQLITE_BUSY');
        },
        { tries: 3 },
      ),
    ).rejects.toThrow('SQLITE_BUSY');
    expect(n).toBe(3);
  });
});
