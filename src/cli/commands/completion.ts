import { Argument, type Command } from 'commander';
import {
  COMPLETION_SHELLS,
  type CompletionShell,
  completionCandidates,
  completionScript,
  homeAmong,
} from '../completion.js';
import { type CliContext, createContext, readConfig } from '../context.js';
import type { CliIO } from '../io.js';
import type { Dispatch } from '../runner.js';

/** The arguments of `mcp-oauth completion <shell>`. */
export interface CompletionInput {
  shell: CompletionShell;
}

/** Defines `completion <shell>` and hands the shell to `dispatch`. */
export function registerCompletion(program: Command, dispatch: Dispatch): void {
  program
    .command('completion')
    .description('print the shell completion script (commands, options and your server names)')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(COMPLETION_SHELLS))
    .addHelpText(
      'after',
      `
Examples:
  $ mcp-oauth completion bash > ~/.local/share/bash-completion/completions/mcp-oauth
  $ mcp-oauth completion zsh > "\${fpath[1]}/_mcp-oauth"
  $ mcp-oauth completion fish > ~/.config/fish/completions/mcp-oauth.fish`,
    )
    .action((shell: CompletionShell, _options: unknown, command: Command) =>
      dispatch(command, runCompletion, { shell }),
    );
}

/** Prints the completion script of the shell on stdout. */
export async function runCompletion(ctx: CliContext, { shell }: CompletionInput): Promise<void> {
  ctx.out.result(completionScript(shell));
}

/**
 * Answers the completion scripts' call back (`mcp-oauth __complete <words...>`): one candidate per
 * line on stdout. It never fails loudly: a <Tab> in a broken home offers no server names.
 */
export async function answerCompletion(program: Command, words: string[], io: CliIO): Promise<void> {
  const names = await configuredNames(words, io);
  const candidates = completionCandidates(program, words, () => names);
  if (candidates.length > 0) io.stdout.write(`${candidates.join('\n')}\n`);
}

async function configuredNames(words: string[], io: CliIO): Promise<string[]> {
  try {
    const config = await readConfig(createContext({ home: homeAmong(words) }, io));
    return [...config.servers.keys()];
  } catch {
    return [];
  }
}
