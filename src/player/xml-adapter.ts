/**
 * What a player whose library is an XML file (Rhythmbox, iTunes/Music)
 * must tell cratesync. No trigger can see into a file, so such a library is
 * watched and each new version read whole and diffed against the last one
 * cratesync synced (the sync layer does the diff, on the common shapes).
 * Song ids are the location URIs, stable across versions.
 */
import type { PlayerName, PlayerSnapshot } from './player-model.js';

export interface XmlPlayerAdapter {
  kind: 'xml';
  name: PlayerName;
  label: string;
  /** Where the player keeps its main library file by default on `platform`, most likely first. */
  defaultPaths(env: NodeJS.ProcessEnv, home: string, platform: NodeJS.Platform): string[];
  /** Every file whose change means a new version, given the main one (rhythmdb.xml and its playlists.xml). */
  files(main: string): string[];
  /**
   * Reads the library whose main file is `main`. Throws FileError naming the
   * file when it is not this player's library at all; an entry that cannot
   * be read is a problem in the snapshot, never a reason to drop the rest.
   */
  read(main: string): Promise<PlayerSnapshot>;
}
