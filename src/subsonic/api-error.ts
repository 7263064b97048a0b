/**
 * Errors of the Subsonic protocol: answered as HTTP 200 with
 * `status="failed"` and one of the spec's codes (subsonic-response.ts maps
 * them; anything else thrown by a handler is code 0 with a generic message,
 * its detail only in the log).
 */
import { CratesyncError } from '../errors.js';

/** The codes of the Subsonic spec (1.16.1) and OpenSubsonic that cratesync answers with. */
export const SubsonicCode = {
  generic: 0,
  missingParameter: 10,
  clientTooOld: 20,
  serverTooOld: 30,
  wrongCredentials: 40,
  tokenNotSupported: 41,
  authNotSupported: 42,
  conflictingAuth: 43,
  invalidApiKey: 44,
  notAuthorized: 50,
  notFound: 70,
} as const;
export type SubsonicCode = (typeof SubsonicCode)[keyof typeof SubsonicCode];

export class SubsonicError extends CratesyncError {
  constructor(
    readonly code: SubsonicCode,
    message: string,
  ) {
    super(message);
  }
}

/** missingParameter: a required parameter is absent or empty (code 10). */
export function missingParameter(name: string): SubsonicError {
  return new SubsonicError(SubsonicCode.missingParameter, `Required parameter is missing: ${name}`);
}

/** notFound: the id names nothing this server knows (code 70). Never echoes the id: it may be anything. */
export function notFound(what: string): SubsonicError {
  return new SubsonicError(SubsonicCode.notFound, `${what} not found`);
}

/** badParameter: a parameter is present but out of shape (code 0, naming the parameter). */
export function badParameter(name: string, why: string): SubsonicError {
  return new SubsonicError(SubsonicCode.generic, `Parameter ${name} ${why}`);
}
