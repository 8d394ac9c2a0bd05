#!/usr/bin/env bash
# Packs the library, installs the tarball into an empty folder, and imports its root export there.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund "./$tarball" >/dev/null
node --input-type=module -e "
  const m = await import('mcp-oauth-manager');
  for (const name of ['OAuthManager', 'getManager', 'resetManagerForTests', 'FileCredentialStore', 'MemoryCredentialStore', 'NeedsReauthError', 'TransientAuthError', 'ConfigError']) {
    if (typeof m[name] !== 'function') { console.error('missing export: ' + name); process.exit(1); }
  }
  const manager = new m.OAuthManager({ store: new m.MemoryCredentialStore(), interactive: 'never' });
  manager.getOrBuildProvider('x', 'https://example.com/mcp');
  await manager.close();
  console.log('pack-check: ' + '$tarball' + ' installs and its root import works');
"
# Every relative link of the README must reach a file of the package (a reader on npm has no clone).
missing=0
for link in $(grep -o '](\([^)#:]*\))' node_modules/mcp-oauth-manager/README.md | sed 's/^](//; s/)$//' | sort -u); do
  if [ ! -e "node_modules/mcp-oauth-manager/$link" ]; then echo "pack-check: README links to $link, which is not in the package"; missing=1; fi
done
[ "$missing" = 0 ] || exit 1
echo "pack-check: every relative link of the README is in the package"
