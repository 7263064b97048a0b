/** A file or object a run could not handle, and why: reported, and the run goes on without it. */
export interface Problem {
  /** Library path, remote key, or what else names the thing (`(catalog)`). */
  path: string;
  message: string;
}
