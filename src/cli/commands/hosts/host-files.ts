/**
 * What `servers import` and the `hosts` commands share: the host files to read (a host's
 * documented locations, or one `--file`), found from the command's environment (HOME,
 * XDG_CONFIG_HOME, APPDATA, CODEX_HOME, HERMES_HOME) and project folder, and the text shown for
 * their untrusted content.
 */
import { resolve } from 'node:path';
import { ConfigError } from '../../../errors.js';
import { displayText } from '../../../terminal-text.js';
import type { CliContext } from '../../context.js';

type HostConfigs = typeof import('../../../config/host-configs/index.js');

/** The host-configs module, loaded when a command needs it. */
export function hostConfigs(): Promise<HostConfigs> {
  return import('../../../config/host-configs/index.js');
}

/** Where the hosts' files are looked for: the command's environment, the platform, the project folder. */
export function locationContext(ctx: CliContext, project: string | undefined) {
  return { env: ctx.io.env, platform: process.platform, cwd: resolve(project ?? process.cwd()) };
}

/** The host named on the command line; ConfigError (exit 2) listing the known ones otherwise. */
export function requireHost(configs: HostConfigs, id: string) {
  const host = configs.hostById(id);
  if (!host) {
    throw new ConfigError(
      `Unknown host '${displayText(id, 60)}'. Known hosts: ${configs.HOST_IDS.join(', ')}.`,
    );
  }
  return host;
}

/**
 * The files to work on: the one given with `--file` (its host from `--from`/the argument, else
 * guessed from its name), else every existing file of `hosts`. A `--file` that is missing or
 * unreadable is a ConfigError (exit 2); a found file that is unreadable is reported by the caller.
 */
export async function filesToScan(
  configs: HostConfigs,
  ctx: CliContext,
  options: { host?: string; file?: string; project?: string },
) {
  const context = locationContext(ctx, options.project);
  if (options.file !== undefined) {
    const file = resolve(options.file);
    const id = options.host ?? configs.guessHost(file);
    if (!id) {
      throw new ConfigError(
        `Cannot tell which host ${file} belongs to from its name; say it with --from (one of ${configs.HOST_IDS.join(', ')}).`,
        { file },
      );
    }
    const host = requireHost(configs, id);
    const scanned = await configs.scanFile(host, { file, scope: 'user' });
    if (!scanned) throw new ConfigError(`No such file: ${file}`, { file });
    if (scanned.problem) throw new ConfigError(`Cannot read ${file}: ${scanned.problem}.`, { file });
    return { files: [scanned], looked: [file] };
  }
  const hosts = options.host ? [requireHost(configs, options.host)] : configs.HOSTS;
  const looked = hosts.flatMap((host) => host.locations(context).map((location) => location.file));
  return { files: await configs.scanHosts(context, hosts), looked };
}

/** Text from a host file (a name, a URL, a reason quoting it), safe to print on a terminal. */
export function shown(text: string): string {
  return displayText(text, 200);
}
