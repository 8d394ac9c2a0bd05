import { readFile } from 'node:fs/promises';
import { registerSecret } from '../logger.js';

/** Where the platform puts the workload's JWT: a file it rotates, or an environment variable. */
export type WorkloadTokenSource = { file: string } | { env: string };

/** The workload token could not be read (missing file, unset variable, not a JWT). */
export class WorkloadTokenError extends Error {
  constructor(
    readonly where: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`the workload token ${where} ${detail}`, options);
    this.name = 'WorkloadTokenError';
  }
}

/**
 * The workload's JWT as the platform provides it now (Kubernetes projected service account
 * tokens, CI OIDC tokens): read again at every mint, because platforms rotate the file in place.
 * Registered with the redactor: an assertion is a secret.
 */
export async function readWorkloadToken(
  source: WorkloadTokenSource,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const where = 'file' in source ? `file ${source.file}` : `variable ${source.env}`;
  let text: string | undefined;
  if ('file' in source) {
    try {
      text = await readFile(source.file, 'utf8');
    } catch (error) {
      throw new WorkloadTokenError(
        where,
        `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        {
          cause: error,
        },
      );
    }
  } else {
    text = env[source.env];
    if (!text) throw new WorkloadTokenError(where, 'is not set');
  }
  const token = text.trim();
  if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token))
    throw new WorkloadTokenError(where, 'does not hold a JWT (three base64url parts separated by dots)');
  registerSecret(token);
  return token;
}
