/**
 * A store URL as it may be shown to a person: the password (and a user name that may be a token,
 * such as a cloud provider's access key) replaced by `***`. An unparsable URL is not echoed at
 * all: it could be a secret pasted in the wrong place.
 */
export function redactStoreUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(an unparsable store URL)';
  }
  if (parsed.password) parsed.password = '***';
  // Redis puts the password alone in the user part when there is no ACL user (redis://:pw@ or redis://pw@).
  if (parsed.username && !parsed.password) parsed.username = '***';
  // Query parameters may carry credentials too (for example `password=`).
  for (const name of [...parsed.searchParams.keys()]) {
    if (/pass|secret|token|key|auth/i.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString();
}
