import type { OpenBrowser } from '../oauth/browser.js';
import type { ServerStatus } from './server-status.js';

/** What a login asks the person to do; a CLI renders these (the URL, the device code, a hint). */
export type LoginPrompt =
  /** The browser is being opened at `url`; `sshHint` is set when the session looks remote. */
  | { kind: 'open-url'; server: string; url: string; sshHint?: string }
  /** Open `url` anywhere, then paste the address the browser was redirected to. */
  | { kind: 'paste-url'; server: string; url: string }
  /** RFC 8628: visit `verificationUri` and enter `userCode` (or open `verificationUriComplete`). */
  | {
      kind: 'device-code';
      server: string;
      verificationUri: string;
      userCode: string;
      verificationUriComplete?: string;
      expiresInSeconds: number;
    }
  /** A pasted line was not the expected redirect (another attempt's state, or no code); paste again. */
  | { kind: 'paste-ignored'; server: string; reason: string }
  /** No browser can be opened here (`reason`): the login goes on with the paste or device flow. */
  | { kind: 'no-browser'; server: string; reason: string; fallback: 'paste' | 'device' }
  /** Another process is already logging in to this server; this one waits for its result. */
  | { kind: 'waiting-for-other-login'; server: string };

/** How `login()` runs: the flow, what it shows the person, and the scope it asks for. */
export interface LoginOptions {
  /** 'browser' (default): browser hook + loopback callback; 'paste': print the URL, read the redirected URL from `input`; 'device': RFC 8628. */
  flow?: 'browser' | 'paste' | 'device';
  /** Overrides the browser hook for this login. */
  openBrowser?: OpenBrowser;
  /** Receives what the person must see; default: nothing is printed (the library stays quiet). */
  prompt?: (prompt: LoginPrompt) => void;
  /** For 'paste': where the redirected URL is read from (a TTY or a pipe); default process.stdin. */
  input?: NodeJS.ReadableStream;
  /** The scope of a 401/403 challenge, used when no scope is configured. */
  challengeScope?: string;
  /**
   * Request exactly this scope (step-up: the union of granted and required), overriding selection.
   * Such a login is a request's, not a person's: it keeps a scope-refusal note (see
   * `OAuthManager.scopeRefusal`) for what its grant does not include; a login without it clears it.
   */
  scope?: string;
  /** The `resource_metadata` URL of the challenge that led to this login (RFC 9728 §5.1). */
  resourceMetadataUrl?: URL;
  signal?: AbortSignal;
  /**
   * When no browser can be opened (no opener, no display, a BROWSER command that fails): 'paste'
   * reads the redirected URL from `input` (a CLI, which owns the terminal); 'device' (default)
   * uses the device flow where the server offers one, else the login fails (NoBrowserLoginError).
   */
  noBrowser?: 'paste' | 'device';
  /** Called as the login enters each step (discovery, registration, waiting, token exchange). */
  onPhase?: (phase: string) => void;
}

/** What a login ended with: the server's status, and whether another process's login was joined. */
export interface LoginResult {
  server: string;
  /** True when another process's login for the same server was awaited instead of starting a second one. */
  joined: boolean;
  status: ServerStatus;
  /**
   * The exact scope the login that ran asked for, when it was a step-up (`LoginOptions.scope`).
   * A caller that joined another caller's login learns here whether its own scopes were asked for.
   */
  requestedScope?: string;
}
