import { constants, promises as fs } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Whether a browser can be opened here, and with what: the answer `doctor` and logins share. */
export type OpenerVerdict = { usable: true; how: string } | { usable: false; why: string };

/** The platform openers `open` uses, by platform. */
const PLATFORM_OPENERS: Record<string, string> = { linux: 'xdg-open', darwin: 'open', win32: 'cmd' };

/** The absolute path of `command` on PATH (or as given when it is a path); undefined if none. */
export async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const candidates =
    isAbsolute(command) || command.includes('/')
      ? [command]
      : (env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await fs.access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Can a browser be opened here? `BROWSER` when set (its first word must be an executable);
 * else the platform opener on PATH, and on Linux a display (`DISPLAY` or `WAYLAND_DISPLAY`):
 * without one, `xdg-open` starts nothing a person can see. Does not start anything.
 */
export async function browserOpener(
  env: NodeJS.ProcessEnv,
  platform: string = process.platform,
): Promise<OpenerVerdict> {
  const browser = env.BROWSER?.trim();
  if (browser) {
    const [file] = browser.split(/\s+/);
    const found = await findOnPath(file!, env);
    return found
      ? { usable: true, how: `BROWSER=${browser}` }
      : {
          usable: false,
          why: `BROWSER is set to ${JSON.stringify(browser)}, but ${file} is not an executable on PATH`,
        };
  }
  const opener = PLATFORM_OPENERS[platform];
  if (!opener) return { usable: false, why: `no known browser opener on ${platform}` };
  if (platform === 'win32') return { usable: true, how: 'the system browser (start)' };
  const found = await findOnPath(opener, env);
  if (!found) return { usable: false, why: `no BROWSER variable and no ${opener} on PATH` };
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY)
    return {
      usable: false,
      why: `no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so ${opener} cannot show a browser`,
    };
  return { usable: true, how: `${opener} (${found})` };
}
