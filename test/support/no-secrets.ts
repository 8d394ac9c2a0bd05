/**
 * One assertion for every test that prints something: nothing printed contains a secret the test
 * planted (a client secret, a token, an authorization code, a PKCE verifier) in any form a leak
 * takes: as it is, URL-encoded (a query or a form body), JSON-escaped, or base64 (a Basic
 * Authorization header, a JWT segment), wherever it sits inside the encoded text.
 */
import { expect } from 'vitest';

/** Shorter values are not checked: they would match ordinary words, not reveal a secret. */
export const MIN_SECRET_LENGTH = 8;
/** Base64 cores shorter than this say too little to count as a leak of the value. */
const MIN_BASE64_CORE = 8;

/**
 * The forms in which `secret` can show up in printed text. For base64 the value may sit at any
 * byte offset of what was encoded (`Basic base64(client_id:secret)`): for each of the three
 * alignments, the characters that depend on the value's bytes alone are one of the forms.
 */
export function secretForms(secret: string): string[] {
  const forms = new Set<string>([secret]);
  forms.add(encodeURIComponent(secret));
  forms.add(new URLSearchParams({ x: secret }).toString().slice(2));
  forms.add(JSON.stringify(secret).slice(1, -1));
  const bytes = Buffer.from(secret, 'utf8');
  for (let shift = 0; shift < 3; shift++) {
    const aligned = bytes.subarray(shift, shift + Math.floor((bytes.length - shift) / 3) * 3);
    const core = aligned.toString('base64');
    if (core.length < MIN_BASE64_CORE) continue;
    forms.add(core);
    forms.add(aligned.toString('base64url'));
  }
  return [...forms];
}

/** The first form of a planted secret found in `output`, or undefined. */
export function findSecret(
  output: string,
  planted: Iterable<string>,
): { secret: string; form: string } | undefined {
  for (const secret of planted) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    for (const form of secretForms(secret)) {
      if (output.includes(form)) return { secret, form };
    }
  }
  return undefined;
}

/**
 * Fails when `output` contains any planted secret in any of its {@link secretForms}. The failure
 * names the form and shows where it was found, but never the whole output (that would print
 * the secret again into the test log only once, next to its context).
 */
export function expectNoSecrets(output: string, planted: Iterable<string>, what = 'the output'): void {
  const found = findSecret(output, planted);
  if (!found) return;
  const at = output.indexOf(found.form);
  const context = output.slice(Math.max(0, at - 80), at + found.form.length + 40);
  expect.fail(
    `${what} contains a planted secret${found.form === found.secret ? '' : ' (encoded)'}: …${context}…`,
  );
}
