import type { Command } from 'commander';
import type { LoginOptions, LoginPrompt, LoginResult, OAuthManager } from '../../index.js';
import { type CliContext, withSession } from '../context.js';
import { InterruptedError } from '../exit-codes.js';
import type { InterruptSignal } from '../io.js';
import { renderPrompt } from '../render-prompt.js';
import type { Dispatch } from '../runner.js';
import { Spinner } from '../spinner.js';
import { expirySummary, statusJson } from '../status-view.js';

/** How the person approves: in a browser opened here, by pasting the redirected URL, or by device code. */
export type LoginFlow = NonNullable<LoginOptions['flow']>;

/** The arguments of `mcp-oauth login <server> [--no-browser | --device]`. */
export interface LoginInput {
  server: string;
  /** `--idp NAME`: sign in at that identity provider of `idps:` instead of a server. */
  idp?: string;
  /** browser (default), paste (`--no-browser`) or device (`--device`). */
  flow: LoginFlow;
}

/** Defines `login <server>`; maps `--no-browser` / `--device` (exit 2 if both) to the flow for `dispatch`. */
export function registerLogin(program: Command, dispatch: Dispatch): void {
  program
    .command('login')
    .description('log in to a configured server (replaces its credential only when the login succeeds)')
    .argument('[server]', 'server name, as in `mcp-oauth servers list`')
    .option(
      '--idp <name>',
      'sign in at an enterprise identity provider of idps: (its sign-in serves every server with oauth.idp)',
    )
    .option('--no-browser', 'do not open a browser: print the URL, then read the redirected URL on stdin')
    .option('--device', 'use the device authorization grant (RFC 8628): enter a code on any device')
    .addHelpText(
      'after',
      `
The browser is the command in $BROWSER when set, else the system's default browser.

Examples:
  $ mcp-oauth login notion
  $ mcp-oauth login notion --no-browser     # over SSH: paste the redirected URL back
  $ mcp-oauth login notion --device         # enter a code on your phone
  $ mcp-oauth login --idp corp              # sign in at the company IdP (servers with oauth.idp: corp)
  $ mcp-oauth --json login notion`,
    )
    .action(
      (
        server: string | undefined,
        options: { browser: boolean; device?: boolean; idp?: string },
        command: Command,
      ) => {
        if ((server === undefined) === (options.idp === undefined)) {
          const neither = server === undefined;
          command.error(
            neither
              ? "error: missing required argument 'server' (or --idp NAME)"
              : 'error: give a server or --idp NAME, not both',
            {
              exitCode: 2,
              code: 'commander.missingArgument',
            },
          );
        }
        if (options.device && !options.browser) {
          command.error('error: --device and --no-browser cannot be used together', {
            exitCode: 2,
            code: 'commander.conflictingOption',
          });
        }
        const flow: LoginFlow = options.device ? 'device' : options.browser ? 'browser' : 'paste';
        return dispatch(command, runLogin, {
          server: server ?? '',
          flow,
          ...(options.idp ? { idp: options.idp } : {}),
        });
      },
    );
}

/**
 * Logs in (prompts and spinner on stderr) and prints the result on stdout (`--json`: server, joined,
 * status); the credential is replaced only on success. Ctrl-C or SIGTERM cancels it, committing nothing
 * (exit 130 / 143).
 */
export async function runLogin(ctx: CliContext, { server, flow, idp }: LoginInput): Promise<void> {
  if (idp !== undefined) return runIdpLogin(ctx, idp, flow);
  // An explicit `login` is the person asking: 'always' lets it run whatever the context (no TTY,
  // CI, a pipe on stdin for --no-browser).
  const result = await withSession(ctx, 'always', async ({ manager, use }) => {
    use(server);
    return loginWithPrompts(ctx, manager, server, flow);
  });
  if (ctx.json) {
    ctx.out.json({ server: result.server, joined: result.joined, status: statusJson(result.status) });
    return;
  }
  // `joined`: another process ran the authorization; this one waited for it and reports it.
  const how = result.joined ? ' through the login another process was running' : '';
  // A client-credentials or JWT bearer server has no login: a token was minted for it.
  const what =
    result.status.grant === 'authorization_code'
      ? `Logged in to ${server}${how}`
      : `Obtained a token for ${server} (${result.status.grant})`;
  ctx.out.result(ctx.out.success(`${what} (${expirySummary(result.status, true)})`));
}

/** `login --idp NAME`: the sign-in at an identity provider of `idps:`; its assertion is stored, never printed. */
async function runIdpLogin(ctx: CliContext, name: string, flow: LoginFlow): Promise<void> {
  const { loadConfig } = await import('../../config/index.js');
  const { ConfigError } = await import('../../errors.js');
  const config = await loadConfig(ctx.home, ctx.io.env);
  const idp = config.idps.get(name);
  if (idp === undefined)
    throw new ConfigError(
      `Unknown identity provider '${name}': add it under idps: in ${config.file}${config.idps.size ? ` (known: ${[...config.idps.keys()].join(', ')})` : ''}.`,
      { file: config.file },
    );
  if (idp instanceof Error) throw idp;
  const outcome = await withSession(
    ctx,
    'always',
    ({ manager }) =>
      manager.loginIdentityProvider(idp, {
        flow: flow === 'device' ? 'browser' : flow,
        prompt: (p) => ctx.io.stderr.write(`${renderPrompt(p, ctx.out.errStyle)}\n`),
        input: ctx.io.stdin,
      }),
    undefined,
  );
  if (ctx.json) {
    ctx.out.json(outcome);
    return;
  }
  ctx.out.result(
    ctx.out.success(
      `Signed in at identity provider ${name} (${outcome.issuer})${outcome.expiresAt ? `; the sign-in lasts until ${outcome.expiresAt}` : ''}`,
    ),
  );
}

async function loginWithPrompts(
  ctx: CliContext,
  manager: OAuthManager,
  server: string,
  flow: LoginFlow,
): Promise<LoginResult> {
  const { io } = ctx;
  const spinner = new Spinner(io.stderr, { env: io.env });
  const prompt = (p: LoginPrompt) => {
    spinner.print(renderPrompt(p, ctx.out.errStyle));
    // The spinner only where the person waits on something elsewhere; never while they type
    // (paste): the redraws would garble what they paste.
    if (p.kind === 'open-url') spinner.start('Waiting for you to approve in the browser');
    else if (p.kind === 'device-code') spinner.start('Waiting for you to enter the code');
    else if (p.kind === 'waiting-for-other-login') spinner.start('Waiting for the other login to finish');
    else spinner.stop();
  };
  // One Ctrl-C (or SIGTERM) cancels the login in whatever phase it is: the signal reaches every
  // request of the flow, the login lock is released and nothing is committed; only then does the
  // command exit, with 130 (143), saying so. A second one is left to the default: exit at once.
  const cancel = new AbortController();
  let interrupted: InterruptSignal | undefined;
  const stopListening = io.onInterrupt((signal) => {
    spinner.stop();
    if (cancel.signal.aborted) return false;
    interrupted = signal;
    cancel.abort();
    return true;
  });
  // Until the first prompt: discovery and client registration can take a while on a slow network.
  spinner.start(`Connecting to ${server}`);
  try {
    return await manager.login(server, { flow, prompt, input: io.stdin, signal: cancel.signal });
  } catch (error) {
    // A failed login commits nothing, so after a cancellation the old credential is as it was.
    if (interrupted) {
      throw new InterruptedError(interrupted, 'Login cancelled; the stored credential was not changed.', {
        cause: error,
      });
    }
    throw error;
  } finally {
    spinner.stop();
    stopListening();
  }
}
