/** The one rule for user names, and the config keys that hold crew settings. */
import { describe, expect, it } from 'vitest';
import { userNameProblem } from './user-name.js';
import { validateConfig } from './config-schema.js';

describe('user names', () => {
  it('takes letters, digits, dots, dashes and underscores, 1–64 of them', () => {
    for (const ok of ['alice', 'DJ_K-9.x', 'Jörg', '拓也', 'x'.repeat(64), '.hidden']) expect(userNameProblem(ok), ok).toBeUndefined();
    for (const bad of ['', '.', '..', 'a/b', '../x', 'a b', 'x'.repeat(65), 'a@b', 'Jo\u0308rg']) expect(userNameProblem(bad), JSON.stringify(bad)).toBeDefined();
  });

  it('the config refuses what the registry would refuse, naming the key', () => {
    expect(() => validateConfig({ user: '..' }, 'c.json')).toThrow('c.json: user: must not be "." or ".."');
    expect(validateConfig({ user: 'Jo\u0308rg' }, 'c.json').user).toBe('Jo\u0308rg');
  });
});

describe('notify.webhook', () => {
  it('takes an http(s) URL and refuses anything else without echoing it', () => {
    expect(validateConfig({ notify: { webhook: 'https://discord.com/api/webhooks/1/x' } }, 'c.json').notify?.webhook).toBe('https://discord.com/api/webhooks/1/x');
    expect(validateConfig({ notify: {} }, 'c.json').notify).toEqual({});
    for (const bad of ['ftp://host/SECRET', 'SECRET', 'file:///SECRET']) {
      expect(() => validateConfig({ notify: { webhook: bad } }, 'c.json')).toThrow(/^c\.json: notify\.webhook: must be an http:\/\/ or https:\/\/ URL$/);
    }
    expect(() => validateConfig({ notify: { webhook: 'https://x.example/', channel: 'y' } }, 'c.json')).toThrow('c.json: notify.channel: unknown key');
  });
});
