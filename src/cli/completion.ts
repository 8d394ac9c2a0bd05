import type { Command } from 'commander';

/** The shells `mcp-oauth completion` writes a script for. */
export const COMPLETION_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

/**
 * The hidden command the shell scripts call back on each <Tab>, as `gh` does (`__complete`): the
 * candidates come from the same commander tree that parses the command line, so completion never
 * drifts from the commands, and server names come from config.yaml at the moment of the <Tab>.
 */
export const COMPLETE_COMMAND = '__complete';

/**
 * The script that installs completion for `shell`. Each asks `mcp-oauth __complete <words...>`
 * (the words typed so far, the last one being completed) and offers what it prints, one per line.
 */
export function completionScript(shell: CompletionShell): string {
  switch (shell) {
    case 'bash':
      return `# mcp-oauth completion for bash. Install: mcp-oauth completion bash > ~/.local/share/bash-completion/completions/mcp-oauth
_mcp_oauth() {
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$(mcp-oauth ${COMPLETE_COMMAND} "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _mcp_oauth mcp-oauth
`;
    case 'zsh':
      return `#compdef mcp-oauth
# mcp-oauth completion for zsh. Install: mcp-oauth completion zsh > "\${fpath[1]}/_mcp-oauth"
_mcp_oauth() {
  local -a candidates
  candidates=("\${(@f)$(mcp-oauth ${COMPLETE_COMMAND} "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  compadd -a candidates
}
compdef _mcp_oauth mcp-oauth
`;
    case 'fish':
      return `# mcp-oauth completion for fish. Install: mcp-oauth completion fish > ~/.config/fish/completions/mcp-oauth.fish
complete -c mcp-oauth -f -a '(mcp-oauth ${COMPLETE_COMMAND} (commandline -opc)[2..-1] (commandline -ct))'
`;
  }
}

/** Arguments that name a configured server (`servers add <name>` names a new one: not completed). */
const SERVER_ARGUMENTS = new Set(['name', 'server', 'servers']);

/**
 * What may come next after `words` (the command line after `mcp-oauth`; the last word is the one
 * being completed, possibly empty): subcommands, options (when the word starts with `-`), or the
 * configured server names where the command takes one. Not filtered by the typed prefix: the
 * shells do that.
 */
export function completionCandidates(
  program: Command,
  words: readonly string[],
  serverNames: () => string[],
): string[] {
  const current = words.at(-1) ?? '';
  let command = program;
  let positional = 0;
  for (const word of words.slice(0, -1)) {
    if (word.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) {
      command = sub;
      positional = 0;
    } else positional++;
  }
  if (current.startsWith('-')) return optionsOf(command);
  // Help's own list: hidden commands (this one) left out, the implicit `help` command included.
  const visible = command.commands.length > 0 ? command.createHelp().visibleCommands(command) : [];
  if (visible.length > 0) return visible.map((c) => c.name());
  const argument = command.registeredArguments[positional] ?? command.registeredArguments.at(-1);
  const takesServer =
    argument !== undefined &&
    SERVER_ARGUMENTS.has(argument.name()) &&
    command.name() !== 'add' &&
    (positional < command.registeredArguments.length || argument.variadic);
  return takesServer ? serverNames() : [];
}

/** The long options of `command` and of every command above it (the global ones). */
function optionsOf(command: Command): string[] {
  const out = new Set<string>();
  for (let c: Command | null = command; c; c = c.parent) {
    for (const option of c.options) if (option.long) out.add(option.long);
  }
  out.add('--help');
  return [...out];
}

/** The value of `--home` among `words` (`--home DIR` or `--home=DIR`), for the server names. */
export function homeAmong(words: readonly string[]): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? '';
    if (word === '--home') return words[i + 1];
    if (word.startsWith('--home=')) return word.slice('--home='.length);
  }
  return undefined;
}
