/**
 * An OAuthConfig that carries its client secret for the code that needs it, but never shows it:
 * JSON.stringify, String(...) and util.inspect (console.log) print `clientSecret: "[redacted]"`.
 * The guard lives on the prototype, so a plain copy (`{ ...config }`) is an ordinary object again.
 */
import type { OAuthConfig } from './oauth-config.js';

/** What a redacted OAuthConfig shows instead of its client secret. */
export const REDACTED = '[redacted]';

function redactedView(config: { clientSecret?: string }): Record<string, unknown> {
  const view: Record<string, unknown> = { ...config };
  if (view.clientSecret !== undefined) view.clientSecret = REDACTED;
  return view;
}

const secretSafePrototype: object = Object.create(Object.prototype, {
  toJSON: {
    value(this: OAuthConfig) {
      return redactedView(this);
    },
  },
  toString: {
    value(this: OAuthConfig) {
      return `OAuthConfig ${JSON.stringify(redactedView(this))}`;
    },
  },
  [Symbol.for('nodejs.util.inspect.custom')]: {
    value(
      this: OAuthConfig,
      _depth: number,
      options: unknown,
      inspect: (value: unknown, options: unknown) => string,
    ) {
      return inspect(redactedView(this), options);
    },
  },
});

/** A copy of `config` (an OAuthConfig, an IdP's) whose JSON, string form and inspection never contain the client secret. */
export function withRedactedSecret<T extends { clientSecret?: string }>(config: T): T {
  return Object.assign(Object.create(secretSafePrototype) as T, config);
}
