import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStateDb, type Db } from './state-db.js';
import { ServeUsers } from './serve-users.js';

let dir: string;
let db: Db;
let keyFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'serve-users-'));
  db = openStateDb(join(dir, 'state.db'));
  keyFile = join(dir, 'data', 'serve.key');
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('serve users', () => {
  it('adds, lists and removes users; the password comes back as it was', () => {
    const users = new ServeUsers(db, keyFile);
    users.add('bob', 'pässwörd 🎵', 5);
    users.add('alice', 'x');
    expect(users.list().map((u) => u.name)).toEqual(['alice', 'bob']);
    expect(users.list()[1]).toEqual({ name: 'bob', created: 5, hasApiKey: false });
    expect(users.password('bob')).toBe('pässwörd 🎵');
    expect(users.password('nobody')).toBeUndefined();
    expect(users.remove('bob')).toBe(true);
    expect(users.remove('bob')).toBe(false);
    expect(users.password('bob')).toBeUndefined();
  });

  it('refuses a taken name, a bad name and an empty password', () => {
    const users = new ServeUsers(db, keyFile);
    users.add('bob', 'x');
    expect(() => users.add('bob', 'y')).toThrow(/exists already/);
    expect(() => users.add('a/b', 'y')).toThrow(/serve user name/);
    expect(() => users.add('', 'y')).toThrow(/serve user name/);
    expect(() => users.add('carol', '')).toThrow(/must not be empty/);
    expect(users.password('bob')).toBe('x');
  });

  it('setPassword replaces the password of an existing user only', () => {
    const users = new ServeUsers(db, keyFile);
    users.add('bob', 'old');
    expect(users.setPassword('bob', 'new')).toBe(true);
    expect(users.password('bob')).toBe('new');
    expect(users.setPassword('nobody', 'new')).toBe(false);
  });

  it('keeps the password sealed in the database, under a 0600 key file made on first need', () => {
    const users = new ServeUsers(db, keyFile);
    users.add('bob', 'hunter2-secret');
    const stored = db.prepare('SELECT password FROM serve_users').pluck().get() as string;
    expect(stored).not.toContain('hunter2');
    expect(Buffer.from(stored, 'base64').toString('latin1')).not.toContain('hunter2');
    expect(readFileSync(keyFile, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    if (process.platform !== 'win32') expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    // Another instance (another process) reads the same key.
    expect(new ServeUsers(db, keyFile).password('bob')).toBe('hunter2-secret');
  });

  it('a sealed password does not open under another name or another key', () => {
    const users = new ServeUsers(db, keyFile);
    users.add('bob', 'x');
    users.add('eve', 'y');
    db.prepare("UPDATE serve_users SET password = (SELECT password FROM serve_users WHERE name = 'bob') WHERE name = 'eve'").run();
    expect(() => users.password('eve')).toThrow(/does not open with this key/);
    writeFileSync(keyFile, `${'ab'.repeat(32)}\n`);
    expect(() => new ServeUsers(db, keyFile).password('bob')).toThrow(/serve\.key: the password of serve user bob does not open/);
  });

  it('refuses a key file that is not a key, naming it', () => {
    writeFileSync(join(dir, 'bad.key'), 'nonsense');
    const users = new ServeUsers(db, join(dir, 'bad.key'));
    expect(() => users.add('bob', 'x')).toThrow(/bad\.key: not a serve key/);
  });

  it('makes API keys kept only as their hash; a new key replaces the old one', () => {
    const users = new ServeUsers(db, keyFile);
    users.add('bob', 'x');
    const k1 = users.newApiKey('bob');
    expect(k1.length).toBeGreaterThan(40);
    expect(users.userByApiKey(k1)).toBe('bob');
    expect(users.list()[0]?.hasApiKey).toBe(true);
    expect(db.prepare('SELECT api_key FROM serve_users').pluck().get()).not.toBe(k1);
    const k2 = users.newApiKey('bob');
    expect(k2).not.toBe(k1);
    expect(users.userByApiKey(k1)).toBeUndefined();
    expect(users.userByApiKey(k2)).toBe('bob');
    expect(users.userByApiKey('')).toBeUndefined();
    expect(() => users.newApiKey('nobody')).toThrow(/no serve user nobody/);
  });
});
