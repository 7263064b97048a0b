/**
 * The system methods: ping, getLicense and getOpenSubsonicExtensions (public:
 * the server answers them before authentication, see server.ts), and
 * getUser/getUsers, which tell a client what the signed-in user may do.
 */
import { SubsonicCode, SubsonicError } from './api-error.js';
import type { RouteTable, SubsonicBody } from './route-types.js';

/** The methods answered without credentials: clients call them to discover the server. */
export const PUBLIC_METHODS: ReadonlySet<string> = new Set(['ping', 'getLicense', 'getOpenSubsonicExtensions']);

/**
 * The OpenSubsonic extensions cratesync implements: formPost (server.ts reads
 * POSTed forms), apiKeyAuthentication (auth.ts), songLyrics
 * (getLyricsBySongId). Only what is real: clients switch behaviour on them.
 */
export const EXTENSIONS: ReadonlyArray<{ name: string; versions: number[] }> = [
  { name: 'formPost', versions: [1] },
  { name: 'apiKeyAuthentication', versions: [1] },
  { name: 'songLyrics', versions: [1] },
];

function user(name: string): SubsonicBody {
  return {
    username: name,
    scrobblingEnabled: true,
    adminRole: false,
    settingsRole: false,
    downloadRole: true,
    uploadRole: false,
    playlistRole: true,
    coverArtRole: true,
    commentRole: false,
    podcastRole: false,
    streamRole: true,
    jukeboxRole: false,
    shareRole: false,
    videoConversionRole: false,
    // The one music folder: the remote's music/.
    folder: [1],
  };
}

/** ping, getLicense, getOpenSubsonicExtensions, getUser and getUsers. */
export const systemRoutes: RouteTable = {
  ping: () => ({}),
  // There is no licence to check: always valid, for clients that refuse to run otherwise.
  getLicense: () => ({ license: { valid: true, email: 'cratesync@localhost', licenseExpires: '2099-12-31T00:00:00.000Z' } }),
  getOpenSubsonicExtensions: () => ({ openSubsonicExtensions: EXTENSIONS.map((e) => ({ name: e.name, versions: [...e.versions] })) }),
  // No user is an admin, so each may see only itself (code 50 otherwise, as the spec says).
  getUser: (req) => {
    const asked = req.params.get('username');
    if (asked !== undefined && asked !== '' && asked !== req.user.name) {
      throw new SubsonicError(SubsonicCode.notAuthorized, 'You may only see your own user');
    }
    return { user: user(req.user.name) };
  },
  getUsers: (req) => ({ users: { user: [user(req.user.name)] } }),
};
