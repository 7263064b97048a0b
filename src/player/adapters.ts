/**
 * The players cratesync knows, by name, and where each keeps its library by
 * default. Adding a player is one adapter module in adapters/ and one line
 * here (see the README, "Adding a player").
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import type { SqlitePlayerAdapter } from './sqlite-adapter.js';
import type { XmlPlayerAdapter } from './xml-adapter.js';
import { PLAYER_NAMES, type PlayerName } from './player-model.js';
import { UsageError } from '../errors.js';
import { banshee } from './adapters/banshee.js';
import { beets } from './adapters/beets.js';
import { clementine } from './adapters/clementine.js';
import { itunes } from './adapters/itunes.js';
import { mediamonkey } from './adapters/mediamonkey.js';
import { rhythmbox } from './adapters/rhythmbox.js';
import { strawberry } from './adapters/strawberry.js';

export type PlayerAdapter = SqlitePlayerAdapter | XmlPlayerAdapter;

const ADAPTERS: Record<PlayerName, PlayerAdapter> = { mediamonkey, clementine, strawberry, banshee, beets, rhythmbox, itunes };

/** adapterOf is the adapter of player `name`; throws UsageError naming the players there are. */
export function adapterOf(name: string): PlayerAdapter {
  const a = (ADAPTERS as Record<string, PlayerAdapter | undefined>)[name.toLowerCase()];
  if (!a) throw new UsageError(`unknown player ${JSON.stringify(name)}: cratesync knows ${PLAYER_NAMES.join(', ')}`);
  return a;
}

/**
 * defaultLibrary is where `adapter`'s player keeps its library on this
 * machine: the first of its default places that exists. Throws UsageError
 * naming the places looked at when none does.
 */
export function defaultLibrary(adapter: PlayerAdapter, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const places = adapter.defaultPaths(env, env.HOME ?? homedir(), platform);
  const found = places.find((p) => existsSync(p));
  if (found) return found;
  const what = adapter.kind === 'sqlite' ? 'database' : 'library file';
  throw new UsageError(`no ${adapter.label} ${what} found at ${places.join(', ') || 'its usual places'}: give it with --db`);
}
