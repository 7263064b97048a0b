/**
 * What every Subsonic route is written against: a handler takes a request
 * (its parameters, the authenticated user, the server's context) and returns
 * the payload of a `subsonic-response` as its JSON form, or a whole HTTP
 * Response for binary answers (stream, download, getCoverArt).
 *
 * The payload is plain data shaped like OpenSubsonic's JSON: objects,
 * arrays, strings, numbers, booleans. subsonic-response.ts writes it as JSON
 * as it is, and as XML by one rule: a scalar field is an attribute, an
 * object an element, an array repeated elements of its field's name, and a
 * field named `value` the element's text (lyrics).
 */
import type { Logger } from 'pino';
import type { Db } from '../state/state-db.js';
import type { Remote } from '../remote/remote.js';
import type { RemoteCatalog } from '../sync/catalog.js';
import type { SubsonicIndex } from '../state/subsonic-index.js';

/** A response's payload: e.g. `{ album: {...} }`; `{}` for an empty success. */
export type SubsonicBody = Record<string, unknown>;

/** The request's parameters: the query string and, for a POST form, its fields (repeatable: `id=1&id=2`). */
export interface Params {
  /** The first value of `name`; undefined when absent. */
  get(name: string): string | undefined;
  /** Every value of `name`, in order. */
  all(name: string): string[];
}

/** A user of the Subsonic server (serve users, not crew members: see state/serve-users.ts). */
export interface ServeUser {
  name: string;
}

/** What the server runs over: one remote's catalog, and the library this machine has of it, if any. */
export interface ServeContext {
  db: Db;
  remote: Remote;
  catalog: RemoteCatalog;
  index: SubsonicIndex;
  /** The library root when this machine has one: songs with an identical local copy stream from it. */
  library?: string;
  /** The crew user (config `user`) playlists created through the server are written as. */
  crewUser: string;
  /** Where covers are kept locally: `<covers>/<name>` as found, `<covers>/sized/<size>/<name>` resized. */
  coversDir: string;
  log: Logger;
  /**
   * Reads what the catalog gained since the last look (new logs only) and
   * applies it to the index; at most once per interval however many
   * requests ask, and never twice at once. While a large update of the
   * index runs, resolves at once: the request is answered from the index
   * as committed so far.
   */
  refresh(): Promise<void>;
}

export interface SubsonicRequest {
  /** The method's name without `.view`: `getAlbum`. */
  method: string;
  params: Params;
  user: ServeUser;
  serve: ServeContext;
  /** The HTTP request, for headers (Range) and the abort signal. */
  raw: Request;
}

export type Handler = (req: SubsonicRequest) => SubsonicBody | Response | Promise<SubsonicBody | Response>;

/** Handlers by method name (without `.view`). */
export type RouteTable = Readonly<Record<string, Handler>>;
