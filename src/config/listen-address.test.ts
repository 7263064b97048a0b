import { describe, expect, it } from 'vitest';
import { exposureWarning, isLoopback, listenProblem, listenUrl, parseListen } from './listen-address.js';
import { validateConfig } from './config-schema.js';

describe('listen addresses', () => {
  it('reads host:port, IPv6 in brackets, and port 0', () => {
    expect(parseListen('127.0.0.1:4533')).toEqual({ host: '127.0.0.1', port: 4533 });
    expect(parseListen('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(parseListen('0.0.0.0:0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('music.example.org:443')).toEqual({ host: 'music.example.org', port: 443 });
  });

  it('says what is wrong with a bad one', () => {
    expect(listenProblem('4533')).toMatch(/must be host:port/);
    expect(listenProblem(':4533')).toMatch(/host is missing/);
    expect(listenProblem('127.0.0.1')).toMatch(/must be host:port/);
    expect(listenProblem('127.0.0.1:99999')).toMatch(/out of range/);
    expect(listenProblem('::1:4533')).toMatch(/must be host:port/);
    expect(listenProblem('[127.0.0.1]:4533')).toMatch(/not an IPv6 address/);
    expect(listenProblem('bad host:1')).toMatch(/not an IP address or host name/);
    expect(listenProblem('127.0.0.1:45x')).toMatch(/must be host:port/);
  });

  it('knows loopback from the rest', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST.']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', '10.0.0.1', 'fe80::1', 'example.org', 'localhost.example.org']) expect(isLoopback(h), h).toBe(false);
  });

  it('warns of plain HTTP beyond this machine, naming the risk, and only then', () => {
    expect(exposureWarning('0.0.0.0', false)).toMatch(/0\.0\.0\.0 without TLS: Subsonic passwords and tokens cross the network readable/);
    expect(exposureWarning('192.168.1.2', false)).toMatch(/--tls-cert/);
    expect(exposureWarning('0.0.0.0', true)).toBeUndefined();
    expect(exposureWarning('127.0.0.1', false)).toBeUndefined();
    expect(exposureWarning('::1', false)).toBeUndefined();
  });

  it('gives the URL apps are pointed at', () => {
    expect(listenUrl('127.0.0.1', 4533, false)).toBe('http://127.0.0.1:4533');
    expect(listenUrl('::1', 4533, true)).toBe('https://[::1]:4533');
    expect(listenUrl('0.0.0.0', 80, false)).toBe('http://127.0.0.1:80');
    expect(listenUrl('::', 80, false)).toBe('http://[::1]:80');
  });
});

describe('config serve section', () => {
  it('takes enabled, listen and the TLS file paths', () => {
    const c = validateConfig({ serve: { enabled: true, listen: '[::1]:4533', tlsCert: '~/cert.pem', tlsKey: '~/key.pem' } }, 'c.json');
    expect(c.serve).toEqual({ enabled: true, listen: '[::1]:4533', tlsCert: '~/cert.pem', tlsKey: '~/key.pem' });
    expect(validateConfig({ serve: {} }, 'c.json').serve).toEqual({});
  });

  it('refuses a bad listen, a lone TLS file, a password and unknown keys, naming the key', () => {
    expect(() => validateConfig({ serve: { listen: '4533' } }, 'c.json')).toThrow(/^c\.json: serve\.listen: must be host:port/);
    expect(() => validateConfig({ serve: { enabled: 'yes' } }, 'c.json')).toThrow(/^c\.json: serve\.enabled: /);
    expect(() => validateConfig({ serve: { tlsCert: 'cert.pem' } }, 'c.json')).toThrow('c.json: serve: tlsCert and tlsKey go together: give both or neither');
    expect(() => validateConfig({ serve: { password: 'x' } }, 'c.json')).toThrow('c.json: serve.password: unknown key');
    expect(() => validateConfig({ serve: { users: [] } }, 'c.json')).toThrow('c.json: serve.users: unknown key');
  });
});
