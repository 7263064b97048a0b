/**
 * classifyWatchError on the messages @parcel/watcher (2.6) and Node really
 * produce: the inotify ones were seen on Linux (the limit in a user namespace
 * of its own), the others are quoted from the watcher's sources.
 */
import { describe, expect, it } from 'vitest';
import { classifyWatchError } from './watch-error.js';

describe('classifyWatchError', () => {
  it('tells the inotify watch limit, naming the setting and how to raise it', () => {
    for (const m of [
      "inotify_add_watch on '/home/u/Music/Artist/Album' failed: No space left on device",
      "ENOSPC: System limit for number of file watchers reached, watch '/home/u/Music'",
    ]) {
      const c = classifyWatchError(new Error(m));
      expect(c.kind, m).toBe('limit');
      expect(c.message).toMatch(/fs\.inotify\.max_user_watches/);
      expect(c.message).toMatch(/sysctl fs\.inotify\.max_user_watches=524288/);
      expect(c.message).not.toMatch(/\n/);
    }
  });

  it('tells the limit on inotify instances apart', () => {
    const c = classifyWatchError(new Error('Unable to initialize inotify: Too many open files'));
    expect(c.kind).toBe('limit');
    expect(c.message).toMatch(/fs\.inotify\.max_user_instances/);
  });

  it('tells lost events (FSEvents, Windows) as overflow', () => {
    for (const m of [
      'Events were dropped by the FSEvents client. File system must be re-scanned.',
      'Events were dropped by the kernel. File system must be re-scanned.',
      'Too many events. File system must be re-scanned.',
      'Buffer overflow. Some events may have been lost.',
    ]) {
      const c = classifyWatchError(new Error(m));
      expect(c.kind, m).toBe('overflow');
      expect(c.message).toContain(m);
    }
  });

  it('tells a root that is gone or is not a folder', () => {
    expect(classifyWatchError(new Error('Bad file descriptor'), true)).toEqual({ kind: 'gone', message: 'library folder is gone' });
    expect(classifyWatchError(new Error('Not a directory')).kind).toBe('gone');
    expect(classifyWatchError(new Error('Invalid handle')).kind).toBe('gone');
  });

  it('leaves anything else as other, with the watcher\'s words on one line', () => {
    expect(classifyWatchError(new Error('Bad file descriptor'))).toEqual({ kind: 'other', message: 'the file watcher failed: Bad file descriptor' });
    expect(classifyWatchError(new Error("inotify_add_watch on '/m/x' failed: Permission denied")).kind).toBe('other');
    expect(classifyWatchError(new Error('Error reading from inotify: Bad address')).kind).toBe('other');
    expect(classifyWatchError('line one\nline two').message).toBe('the file watcher failed: line one');
  });
});
