/** True when this process runs in an SSH session (the browser is then on another machine). */
export function isSshSession(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.SSH_CONNECTION || env.SSH_CLIENT || env.SSH_TTY);
}

/**
 * The hint shown over SSH: the browser on the person's own machine must reach this machine's
 * loopback callback, so forward the port; or use paste-back.
 */
export function sshPortForwardHint(port: number, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!isSshSession(env)) return undefined;
  return `This is an SSH session: on your own computer run \`ssh -N -L ${port}:127.0.0.1:${port} <this host>\` before opening the link, or log in with --no-browser and paste the address the browser ends on.`;
}
