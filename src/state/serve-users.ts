/**
 * The users of the Subsonic server (`cratesync serve user …`), in the state
 * database. Subsonic's token authentication sends md5(password + salt), so
 * the server must know each password itself: it is kept sealed with
 * AES-256-GCM (bound to the user's name) under a 32-byte key in a file of its
 * own, mode 0600, so that a copy of the database alone reveals no password.
 * API keys are random and kept only as their SHA-256.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CratesyncError, UsageError } from '../errors.js';
import { userNameProblem } from '../config/user-name.js';
import { cached, type Db } from './state-db.js';

export interface ServeUserRow {
  name: string;
  /** ms since the epoch. */
  created: number;
  hasApiKey: boolean;
}

const NONCE = 12;
const TAG = 16;
// No user can have it: names are checked by userNameProblem, which refuses spaces.
const DUMMY_NAME = ' no such user ';

/** The serve users of one state database, their passwords sealed under the key in `keyFile`. */
export class ServeUsers {
  private key: Buffer | undefined;
  private dummy: string | undefined;

  /** `keyFile`: where the sealing key is kept (config/paths.ts serveKeyFile); created on first need. */
  constructor(
    private readonly db: Db,
    private readonly keyFile: string,
  ) {}

  /** add creates user `name`. Throws UsageError for a bad name, an empty password or a name already taken. */
  add(name: string, password: string, now = Date.now()): void {
    const problem = userNameProblem(name);
    if (problem) throw new UsageError(`serve user name ${JSON.stringify(name)} ${problem}`);
    if (password === '') throw new UsageError('serve user password must not be empty');
    const sealed = this.seal(name, password);
    const r = cached(this.db, 'INSERT INTO serve_users (name, password, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING').run(name, sealed, now);
    if (r.changes === 0) throw new UsageError(`serve user ${name} exists already`);
  }

  /** setPassword replaces the password of `name`; false when there is no such user. Throws UsageError for an empty password. */
  setPassword(name: string, password: string): boolean {
    if (password === '') throw new UsageError('serve user password must not be empty');
    if (!this.exists(name)) return false;
    return cached(this.db, 'UPDATE serve_users SET password = ? WHERE name = ?').run(this.seal(name, password), name).changes > 0;
  }

  /** remove deletes user `name` (its API key with it); false when there was none. */
  remove(name: string): boolean {
    return cached(this.db, 'DELETE FROM serve_users WHERE name = ?').run(name).changes > 0;
  }

  /** list returns every user, by name. */
  list(): ServeUserRow[] {
    const rows = cached(this.db, 'SELECT name, created_at, api_key IS NOT NULL AS has_key FROM serve_users ORDER BY name').all() as Array<{ name: string; created_at: number; has_key: number }>;
    return rows.map((r) => ({ name: r.name, created: r.created_at, hasApiKey: r.has_key === 1 }));
  }

  /**
   * password returns the plain password of `name`, or undefined when there is
   * no such user (after the same work, so the time taken tells nothing). Throws CratesyncError naming the key file when the stored
   * password cannot be unsealed (the key file was replaced or lost: set the
   * password again).
   */
  password(name: string): string | undefined {
    const row = cached(this.db, 'SELECT password FROM serve_users WHERE name = ?').get(name) as { password: string } | undefined;
    if (!row) {
      // The same work as for a user who exists: how long a login takes tells no one which names do.
      this.unseal(DUMMY_NAME, (this.dummy ??= this.seal(DUMMY_NAME, randomBytes(12).toString('base64'))));
      return undefined;
    }
    return this.unseal(name, row.password);
  }

  /**
   * newApiKey makes a new API key for `name`, replacing any earlier one, and
   * returns it: it is shown once and kept only as its hash. Throws UsageError
   * when there is no such user.
   */
  newApiKey(name: string): string {
    const key = `cs_${randomBytes(32).toString('base64url')}`;
    const r = cached(this.db, 'UPDATE serve_users SET api_key = ? WHERE name = ?').run(hashKey(key), name);
    if (r.changes === 0) throw new UsageError(`no serve user ${name}`);
    return key;
  }

  /** userByApiKey returns the name of the user whose API key is `key`, or undefined. */
  userByApiKey(key: string): string | undefined {
    if (key === '') return undefined;
    const row = cached(this.db, 'SELECT name FROM serve_users WHERE api_key = ?').get(hashKey(key)) as { name: string } | undefined;
    return row?.name;
  }

  private exists(name: string): boolean {
    return cached(this.db, 'SELECT 1 FROM serve_users WHERE name = ?').get(name) !== undefined;
  }

  private seal(name: string, password: string): string {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', this.sealingKey(), nonce);
    // The name as associated data: a sealed password copied to another row does not open there.
    cipher.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([cipher.update(password, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, cipher.getAuthTag(), body]).toString('base64');
  }

  private unseal(name: string, sealed: string): string {
    const raw = Buffer.from(sealed, 'base64');
    try {
      if (raw.length < NONCE + TAG) throw new Error('too short');
      const decipher = createDecipheriv('aes-256-gcm', this.sealingKey(), raw.subarray(0, NONCE));
      decipher.setAAD(Buffer.from(name, 'utf8'));
      decipher.setAuthTag(raw.subarray(NONCE, NONCE + TAG));
      return Buffer.concat([decipher.update(raw.subarray(NONCE + TAG)), decipher.final()]).toString('utf8');
    } catch (err) {
      if (err instanceof CratesyncError) throw err;
      throw new CratesyncError(`${this.keyFile}: the password of serve user ${name} does not open with this key (was the key file replaced?); set the password again`, { cause: err });
    }
  }

  /** The key from the key file, made (32 random bytes, hex, mode 0600) when there is none yet. */
  private sealingKey(): Buffer {
    if (this.key) return this.key;
    let text: string;
    try {
      text = readFileSync(this.keyFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new CratesyncError(`${this.keyFile}: cannot read the serve key: ${(err as Error).message}`, { cause: err });
      text = this.createKeyFile();
    }
    const hex = text.trim();
    if (!/^[0-9a-f]{64}$/i.test(hex)) throw new CratesyncError(`${this.keyFile}: not a serve key (64 hex digits expected)`);
    this.key = Buffer.from(hex, 'hex');
    return this.key;
  }

  private createKeyFile(): string {
    const text = `${randomBytes(32).toString('hex')}\n`;
    try {
      mkdirSync(dirname(this.keyFile), { recursive: true });
      // 'wx': two processes making the key at once must not both win; the loser reads the winner's.
      writeFileSync(this.keyFile, text, { mode: 0o600, flag: 'wx' });
      return text;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(this.keyFile, 'utf8');
      throw new CratesyncError(`${this.keyFile}: cannot write the serve key: ${(err as Error).message}`, { cause: err });
    }
  }
}

function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}
