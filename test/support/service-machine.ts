/**
 * A machine of an end-to-end test of the service: a library folder, a config
 * file pointing at a bucket of s3rver (as `user`), and the service to start
 * on it, as a real process. What `start` starts is pushed to `running`, for
 * the test file to kill after each test.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CliEnv } from './cli.js';
import { startService, type ServiceProcess } from './service-process.js';
import { S3RVER_CREDS } from './player-remote.js';

export interface ServiceMachine {
  home: string;
  lib: string;
  config: string;
  env: CliEnv;
  start(): Promise<ServiceProcess>;
}

export interface ServiceMachineOptions {
  user: string;
  /** The config's `service` section (a short quiet period is the default). */
  service?: Record<string, unknown>;
  /** Other keys of the config. */
  more?: Record<string, unknown>;
  /** An existing library folder (default: a new, empty one). */
  lib?: string;
  /** A folder under the home for the config file. */
  configDir?: string;
}

export async function serviceMachine(endpoint: string, bucket: string, running: ServiceProcess[], o: ServiceMachineOptions): Promise<ServiceMachine> {
  const tmp = (name: string) => mkdtemp(join(tmpdir(), `cs-machine-${name}-`));
  const home = await tmp('home');
  const lib = o.lib ?? join(await tmp('lib'), 'Music');
  await mkdir(lib, { recursive: true });
  await mkdir(join(home, o.configDir ?? ''), { recursive: true });
  const config = join(home, o.configDir ?? '', 'config.json');
  await writeFile(config, `${JSON.stringify({ library: lib, remote: `s3://${bucket}/dj`, user: o.user, ...o.more, service: { quiet: '300ms', ...o.service } }, null, 2)}\n`);
  const env = { ...S3RVER_CREDS, AWS_ENDPOINT_URL: endpoint };
  return {
    home,
    lib,
    config,
    env: { home, env },
    async start() {
      const s = await startService(home, config, env);
      running.push(s);
      return s;
    },
  };
}
