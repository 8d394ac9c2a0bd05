/** The outcome of one `doctor` check. `warn` is shown but does not fail the run. */
export type CheckStatus = 'pass' | 'warn' | 'fail';

/** One line of `mcp-oauth doctor`: what was checked, what was found, and the fix when it failed. */
export interface CheckResult {
  /** A stable id for programs: `home`, `config`, `store`, `lock`, `browser`, `reachable`, `metadata`, `pkce`, `registration`, `device-flow`, `clock`. */
  id: string;
  /** The server the check is about; undefined for the local checks. */
  server?: string;
  status: CheckStatus;
  /** What was found, for a person (no secret, no token). */
  detail: string;
  /** What to do, when the status is not `pass`. */
  fix?: string;
}
