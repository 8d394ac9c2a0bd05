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
