import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addServer, addServers, configPath, loadConfig, removeServer } from '../../src/config/index.js';
import { ConfigError } from '../../src/errors.js';
import { ensureHome } from '../../src/home-folder.js';
import { tempHome } from '../support/temp-home.js';

const mode = async (path: string) => (await stat(path)).mode & 0o777;
const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

/** The ConfigError a promise rejects with (fails the test if it resolves or rejects otherwise). */
async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const SERVER = 'servers:\n  notion:\n    url: https://mcp.notion.com/mcp\n';
const withOAuth = (lines: string) => `${SERVER}    oauth:\n${lines}`;

let home: string;
let file: string;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ home, cleanup } = await tempHome());
  await ensureHome(home);
  file = configPath(home);
});
afterEach(async () => cleanup());

const writeConfig = (text: string) => writeFile(file, text);

describe('loadConfig', () => {
  it('reads every valid form the same through the fast path and the full document parser', async () => {
    const { parseDocument } = await import('yaml');
    const { configFileSchema } = await import('../../src/config/config-schema.js');
    const text = `servers:
  base: &base
    url: https://a.example/mcp
    oauth: &oauth {client_id: shared, scope: "read write", redirect_port: 8080}
  "123":
    url: 'http://127.0.0.1:3000/mcp'
    oauth: *oauth
  flow: {url: https://b.example/mcp, oauth: {timeout: 300, refresh_skew: 0}}
  empty-oauth:
    url: https://c.example/mcp # a comment
    oauth:
  folded:
    url: >-
      https://d.example/mcp
`;
    await writeConfig(text);
    const loaded = await loadConfig(home, {});
    // What the comment-keeping parser (the full path) reads from the same text.
    const expected = configFileSchema.parse(parseDocument(text).toJS());
    expect([...loaded.servers.keys()]).toEqual(Object.keys(expected.servers ?? {}));
    for (const [name, settings] of Object.entries(expected.servers ?? {})) {
      expect(loaded.servers.get(name)?.url).toBe(settings.url);
    }
    expect(loaded.servers.get('123')?.oauth).toEqual({
      clientId: 'shared',
      scope: 'read write',
      redirectPort: 8080,
    });
    expect(loaded.servers.get('flow')?.oauth).toEqual({ timeoutSeconds: 300, refreshSkewSeconds: 0 });
    expect(loaded.servers.get('folded')?.url).toBe('https://d.example/mcp');
  });

  it('reads a valid file into ServerConfigs with the expected OAuthConfig', async () => {
    await writeConfig(`# Servers of my agent
servers:
  notion:
    url: https://mcp.notion.com/mcp
    oauth:                 # every key optional
      client_id: notion-client
      client_secret_env: NOTION_SECRET
      scope: "read write"
      redirect_port: 0
      client_name: "My Agent"
      timeout: 300
      refresh_skew: 30
  local:
    url: http://127.0.0.1:3000/mcp
    oauth:
  cimd:
    url: https://mcp.example.com/mcp
    oauth: {client_metadata_url: "https://app.example.com/oauth/client.json", client_secret: inline-s3cret-value, redirect_port: 8123}
`);
    const loaded = await loadConfig(home, { NOTION_SECRET: 'env-s3cret-value' });
    expect(loaded.file).toBe(join(home, 'config.yaml'));
    expect([...loaded.servers.keys()]).toEqual(['notion', 'local', 'cimd']);
    expect(loaded.servers.get('notion')).toEqual({
      name: 'notion',
      url: 'https://mcp.notion.com/mcp',
      oauth: {
        clientId: 'notion-client',
        clientSecret: 'env-s3cret-value',
        scope: 'read write',
        redirectPort: 0,
        clientName: 'My Agent',
        timeoutSeconds: 300,
        refreshSkewSeconds: 30,
      },
    });
    expect(loaded.servers.get('local')).toEqual({
      name: 'local',
      url: 'http://127.0.0.1:3000/mcp',
      oauth: {},
    });
    expect(loaded.servers.get('cimd')?.oauth).toEqual({
      clientMetadataUrl: 'https://app.example.com/oauth/client.json',
      clientSecret: 'inline-s3cret-value',
      redirectPort: 8123,
    });
    // The secret is there for the code that needs it, but never in JSON, strings or inspection.
    expect(loaded.servers.get('notion')?.oauth.clientSecret).toBe('env-s3cret-value');
    for (const shown of [
      JSON.stringify([...loaded.servers.values()]),
      JSON.stringify(loaded),
      String(loaded.servers.get('notion')?.oauth),
      `${loaded.servers.get('cimd')?.oauth}`,
      inspect(loaded, { depth: 10 }),
    ]) {
      expect(shown).not.toContain('s3cret');
    }
    expect(JSON.parse(JSON.stringify(loaded.servers.get('notion')))).toMatchObject({
      oauth: { clientSecret: '[redacted]', clientId: 'notion-client' },
    });
  });

  it('means no servers when the file or the whole home is missing', async () => {
    expect((await loadConfig(home)).servers.size).toBe(0);
    const nowhere = join(dirname(home), 'no-such-home');
    const loaded = await loadConfig(nowhere);
    expect(loaded).toEqual({ file: join(nowhere, 'config.yaml'), servers: new Map(), idps: new Map() });
    expect(await exists(nowhere)).toBe(false);
  });

  it('means no servers for an empty file, a file of comments, and an empty servers key', async () => {
    for (const text of [
      '',
      '# nothing yet\n',
      'servers:\n',
      'servers: {}\n',
      'servers:\n  # notion: ...\n',
    ]) {
      await writeConfig(text);
      expect((await loadConfig(home)).servers.size).toBe(0);
    }
  });

  interface BadCase {
    what: string;
    yaml: string;
    env?: NodeJS.ProcessEnv;
    message: string;
    server?: string;
    key?: string;
  }
  const bad: BadCase[] = [
    {
      what: 'a YAML syntax error (with its line and column)',
      yaml: 'servers:\n  notion:\n    url: https://mcp.notion.com/mcp\n   oauth: {}\n',
      message: 'invalid YAML at line 4, column 1: All mapping items must start at the same column.',
    },
    {
      what: 'an unclosed quote (pointing at where it opens, not at the end of the file)',
      yaml: 'servers:\n  notion:\n    url: "https://mcp.notion.com/mcp\n    oauth: {}\n',
      message:
        'invalid YAML at line 3, column 10: this quoted value is never closed; add the closing " at its end.',
    },
    {
      what: 'a duplicate server',
      yaml: `${SERVER}  notion:\n    url: https://other.example.com/mcp\n`,
      message:
        'invalid YAML at line 4, column 3: the same key appears twice in one mapping; keep only one (each server and each setting may appear once).',
    },
    {
      what: 'a top level that is not a mapping',
      yaml: '- notion\n- linear\n',
      message:
        'the top level must be a mapping with the key servers, e.g. servers: {notion: {url: "https://mcp.notion.com/mcp"}}; found a list.',
    },
    {
      what: 'servers that is not a mapping',
      yaml: 'servers:\n  - notion\n',
      message:
        'servers must be a mapping from server names to their settings, e.g. servers: {notion: {url: "https://mcp.notion.com/mcp"}}; found a list.',
      key: 'servers',
    },
    {
      what: 'a server without url',
      yaml: 'servers:\n  notion:\n    oauth:\n      scope: read\n',
      message:
        'servers.notion.url is missing; add the URL of the MCP server, e.g. url: https://mcp.example.com/mcp.',
      server: 'notion',
      key: 'url',
    },
    {
      what: 'an empty server entry',
      yaml: 'servers:\n  notion:\n',
      message:
        'servers.notion must be a mapping with at least a url, e.g. {url: "https://mcp.example.com/mcp"}; found an empty value.',
      server: 'notion',
    },
    {
      what: 'a URL that is not a URL',
      yaml: 'servers:\n  notion:\n    url: mcp.notion.com/mcp\n',
      message:
        'servers.notion.url must be an absolute http(s) URL, e.g. https://mcp.example.com/mcp; found "mcp.notion.com/mcp".',
      server: 'notion',
      key: 'url',
    },
    {
      what: 'plain http to a host that is not loopback',
      yaml: 'servers:\n  notion:\n    url: http://mcp.notion.com/mcp\n',
      message:
        'servers.notion.url must use https (plain http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1); found "http://mcp.notion.com/mcp".',
      server: 'notion',
      key: 'url',
    },
    {
      what: 'an unknown key (with the closest known key suggested)',
      yaml: withOAuth('      clent_id: abc\n'),
      message: 'servers.notion.oauth has an unknown key "clent_id"; did you mean client_id?',
      server: 'notion',
      key: 'oauth.clent_id',
    },
    {
      what: 'an unknown key written in camelCase',
      yaml: withOAuth('      timeoutSeconds: 30\n'),
      message: 'servers.notion.oauth has an unknown key "timeoutSeconds"; did you mean timeout?',
      server: 'notion',
      key: 'oauth.timeoutSeconds',
    },
    {
      what: 'an unknown key with nothing close (the known keys listed)',
      yaml: `${SERVER}    colour: blue\n`,
      message: 'servers.notion has an unknown key "colour"; the known keys are url, oauth.',
      server: 'notion',
      key: 'colour',
    },
    {
      what: 'a redirect_port that is not an integer',
      yaml: withOAuth('      redirect_port: abc\n'),
      message:
        'servers.notion.oauth.redirect_port must be an integer from 0 to 65535 (0 picks a free port); found "abc".',
      server: 'notion',
      key: 'oauth.redirect_port',
    },
    {
      what: 'a redirect_port out of range',
      yaml: withOAuth('      redirect_port: 70000\n'),
      message:
        'servers.notion.oauth.redirect_port must be an integer from 0 to 65535 (0 picks a free port); found 70000.',
      server: 'notion',
      key: 'oauth.redirect_port',
    },
    {
      what: 'a timeout of zero',
      yaml: withOAuth('      timeout: 0\n'),
      message:
        'servers.notion.oauth.timeout must be a whole number of seconds from 1 to 86400 (the time allowed for a whole interactive login; default 300); found 0.',
      server: 'notion',
      key: 'oauth.timeout',
    },
    {
      what: 'a negative timeout',
      yaml: withOAuth('      timeout: -30\n'),
      message:
        'servers.notion.oauth.timeout must be a whole number of seconds from 1 to 86400 (the time allowed for a whole interactive login; default 300); found -30.',
      server: 'notion',
      key: 'oauth.timeout',
    },
    {
      what: 'a negative refresh_skew',
      yaml: withOAuth('      refresh_skew: -1\n'),
      message:
        'servers.notion.oauth.refresh_skew must be a whole number of seconds from 0 to 86400 (how long before expiry a token is refreshed; default 60); found -1.',
      server: 'notion',
      key: 'oauth.refresh_skew',
    },
    {
      what: 'client_secret_env naming an unset variable',
      yaml: withOAuth('      client_secret_env: NOTION_SECRET\n'),
      env: {},
      message:
        'servers.notion.oauth.client_secret_env names the environment variable NOTION_SECRET, which is not set; set it to the client secret (e.g. export NOTION_SECRET=...) or remove client_secret_env.',
      server: 'notion',
      key: 'oauth.client_secret_env',
    },
    {
      what: 'client_secret_env naming an empty variable',
      yaml: withOAuth('      client_secret_env: NOTION_SECRET\n'),
      env: { NOTION_SECRET: '' },
      message:
        'servers.notion.oauth.client_secret_env names the environment variable NOTION_SECRET, which is empty; set it to the client secret (e.g. export NOTION_SECRET=...) or remove client_secret_env.',
      server: 'notion',
      key: 'oauth.client_secret_env',
    },
    {
      what: 'both client_secret and client_secret_env',
      yaml: withOAuth('      client_secret: inline-s3cret\n      client_secret_env: NOTION_SECRET\n'),
      env: { NOTION_SECRET: 'env-s3cret' },
      message:
        'servers.notion.oauth has both client_secret and client_secret_env; keep only one (client_secret_env keeps the secret out of this file).',
      server: 'notion',
      key: 'oauth',
    },
    {
      what: 'a client_metadata_url that is not https',
      yaml: withOAuth('      client_metadata_url: http://app.example.com/oauth/client.json\n'),
      message:
        'servers.notion.oauth.client_metadata_url must be an https URL with a path, the address of a Client ID Metadata Document, e.g. https://app.example.com/oauth/client-metadata.json; found "http://app.example.com/oauth/client.json".',
      server: 'notion',
      key: 'oauth.client_metadata_url',
    },
    {
      what: 'a client_metadata_url without a path',
      yaml: withOAuth('      client_metadata_url: https://app.example.com\n'),
      message:
        'servers.notion.oauth.client_metadata_url must be an https URL with a path, the address of a Client ID Metadata Document, e.g. https://app.example.com/oauth/client-metadata.json; found "https://app.example.com".',
      server: 'notion',
      key: 'oauth.client_metadata_url',
    },
    {
      what: 'a server name with a space',
      yaml: 'servers:\n  "my notion":\n    url: https://mcp.notion.com/mcp\n',
      message:
        'servers has an invalid server name "my notion": names must be 1 to 100 characters without spaces or control characters and must not start with "-" (they are used as command-line arguments); rename it, e.g. my-notion.',
      server: 'my notion',
    },
    {
      what: 'a server name starting with "-"',
      yaml: 'servers:\n  --notion:\n    url: https://mcp.notion.com/mcp\n',
      message:
        'servers has an invalid server name "--notion": names must be 1 to 100 characters without spaces or control characters and must not start with "-" (they are used as command-line arguments); rename it, e.g. notion.',
      server: '--notion',
    },
    {
      what: 'a number where text is expected',
      yaml: withOAuth('      client_id: 0123\n'),
      message:
        'servers.notion.oauth.client_id must be a non-empty string, e.g. client_id: my-client-id; found 0123 (a number): put it in quotes, e.g. client_id: "0123".',
      server: 'notion',
      key: 'oauth.client_id',
    },
    {
      what: 'oauth that is not a mapping',
      yaml: `${SERVER}    oauth: read write\n`,
      message:
        'servers.notion.oauth must be a mapping of OAuth settings, e.g. {client_id: my-client-id, scope: "read write"}; found "read write".',
      server: 'notion',
      key: 'oauth',
    },
  ];

  it.each(bad)('refuses $what with an exact, actionable message', async (c) => {
    await writeConfig(c.yaml);
    // A missing secret variable concerns its server only: the file loads, the server carries the error.
    const perServer = c.key === 'oauth.client_secret_env';
    const error = perServer
      ? (await loadConfig(home, c.env ?? {})).servers.get(c.server!)!.error!
      : await configErrorOf(loadConfig(home, c.env ?? {}));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(`${file}: ${c.message}`);
    expect(error.code).toBe('CONFIG');
    expect(error.file).toBe(file);
    expect(error.server).toBe(c.server);
    expect(error.key).toBe(c.key);
  });

  it('reports every problem of the file, one line each, and locates the first', async () => {
    await writeConfig(`servers:
  a:
    url: http://a.example.com/mcp
  b:
    url: https://b.example.com/mcp
    oauth:
      redirect_port: -1
      scopes: read
`);
    const error = await configErrorOf(loadConfig(home, {}));
    expect(error.message.split('\n')).toEqual([
      `${file}: servers.a.url must use https (plain http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1); found "http://a.example.com/mcp".`,
      `${file}: servers.b.oauth.redirect_port must be an integer from 0 to 65535 (0 picks a free port); found -1.`,
      `${file}: servers.b.oauth has an unknown key "scopes"; did you mean scope?`,
    ]);
    expect([error.server, error.key]).toEqual(['a', 'url']);
  });

  it('never puts a secret value in an error message', async () => {
    const secret = 'Sup3rS3cretValue';
    const files = [
      withOAuth(`      client_secret: ${secret}\n      client_secret_env: NOTION_SECRET\n`),
      withOAuth(`      client_secret: ${secret}\n      timeout: 0\n`),
      withOAuth(`      client_secret_env: "${secret}-with-dashes"\n`),
      withOAuth(`      client_secret: [${secret}]\n`),
      withOAuth(`      client_secret: "${secret}\\q"\n`),
      withOAuth(`      client_secret: "${secret}\n`),
      withOAuth(`      client_secret: |x${secret}\n        more\n`),
      withOAuth(`      client_secrt: ${secret}\n`),
      `servers:\n  notion:\n    url: https://me:${secret}@mcp.notion.com/mcp\n`,
      `servers:\n  notion:\n    url: http://me:${secret}@mcp.notion.com/mcp\n`,
      withOAuth(`      client_metadata_url: http://me:${secret}@app.example.com/c.json\n`),
      withOAuth(`      client_secret_env: NOTION_SECRET\n      redirect_port: x\n`),
    ];
    for (const text of files) {
      await writeConfig(text);
      const error = await configErrorOf(loadConfig(home, { NOTION_SECRET: `${secret}-from-env` }));
      expect(error.message, text).not.toContain(secret);
      expect(JSON.stringify(error), text).not.toContain(secret);
    }
  });
});

describe('addServer', () => {
  it('creates the home (0700) and the file (0600), and the entry loads back', async () => {
    const fresh = join(dirname(home), 'fresh-home');
    const previous = process.umask(0o022);
    try {
      const added = await addServer(fresh, {
        name: 'notion',
        url: 'https://mcp.notion.com/mcp',
        oauth: { client_id: 'notion-client', scope: 'read write', redirect_port: '8123', timeout: 120 },
      });
      expect(added).toEqual({
        name: 'notion',
        url: 'https://mcp.notion.com/mcp',
        oauth: { clientId: 'notion-client', scope: 'read write', redirectPort: 8123, timeoutSeconds: 120 },
      });
    } finally {
      process.umask(previous);
    }
    expect(await mode(fresh)).toBe(0o700);
    expect(await mode(configPath(fresh))).toBe(0o600);
    const loaded = await loadConfig(fresh, {});
    expect(loaded.servers.get('notion')).toEqual({
      name: 'notion',
      url: 'https://mcp.notion.com/mcp',
      oauth: { clientId: 'notion-client', scope: 'read write', redirectPort: 8123, timeoutSeconds: 120 },
    });
    const text = await readFile(configPath(fresh), 'utf8');
    expect(text).toContain('redirect_port: 8123\n');
  });

  it('refuses a name that is already configured and leaves the file as it was', async () => {
    await addServer(home, { name: 'notion', url: 'https://mcp.notion.com/mcp' });
    const before = await readFile(file, 'utf8');
    const error = await configErrorOf(
      addServer(home, { name: 'notion', url: 'https://other.example.com/mcp' }),
    );
    expect(error.message).toBe(
      `${file}: servers.notion already exists; choose another name, or remove the existing server first.`,
    );
    expect([error.file, error.server]).toEqual([file, 'notion']);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('validates the entry with the same schema and writes nothing when it is invalid', async () => {
    const fresh = join(dirname(home), 'untouched-home');
    const lead = `Cannot add MCP server "notion" to ${configPath(fresh)}: `;

    let error = await configErrorOf(addServer(fresh, { name: 'notion', url: 'not a url' }));
    expect(error.message).toBe(
      `${lead}url must be an absolute http(s) URL, e.g. https://mcp.example.com/mcp; found "not a url".`,
    );
    expect([error.file, error.server, error.key]).toEqual([configPath(fresh), 'notion', 'url']);

    error = await configErrorOf(addServer(fresh, { name: 'notion', url: 'http://mcp.notion.com/mcp' }));
    expect(error.message).toBe(
      `${lead}url must use https (plain http is allowed only for loopback hosts: localhost, 127.0.0.0/8, ::1); found "http://mcp.notion.com/mcp".`,
    );

    error = await configErrorOf(
      addServer(fresh, {
        name: 'notion',
        url: 'https://mcp.notion.com/mcp',
        oauth: { clent_id: 'x', redirect_port: 'abc' },
      }),
    );
    expect(error.message.split('\n')).toEqual([
      `${lead}oauth.redirect_port must be an integer from 0 to 65535 (0 picks a free port); found "abc".`,
      `${lead}oauth has an unknown key "clent_id"; did you mean client_id?`,
    ]);
    expect(error.key).toBe('oauth.redirect_port');

    error = await configErrorOf(
      addServer(fresh, {
        name: 'notion',
        url: 'https://mcp.notion.com/mcp',
        oauth: { client_secret: 'inline-s3cret', client_secret_env: 'NOTION_SECRET' },
      }),
    );
    expect(error.message).toBe(
      `${lead}oauth has both client_secret and client_secret_env; keep only one (client_secret_env keeps the secret out of this file).`,
    );

    error = await configErrorOf(addServer(fresh, { name: 'my notion', url: 'https://mcp.notion.com/mcp' }));
    expect(error.message).toBe(
      `Cannot add MCP server "my notion" to ${configPath(fresh)}: names must be 1 to 100 characters without spaces or control characters and must not start with "-" (they are used as command-line arguments); use e.g. my-notion instead.`,
    );
    expect(error.server).toBe('my notion');

    error = await configErrorOf(
      addServer(fresh, { name: 'x'.repeat(101), url: 'https://mcp.notion.com/mcp' }),
    );
    expect(error.message).toContain('names must be 1 to 100 characters');

    expect(await exists(fresh)).toBe(false);
  });

  it('keeps hand-written comments and the order of an existing file', async () => {
    await writeConfig(`# My MCP servers (written by hand)
servers:
  # the wiki
  notion:
    url: https://mcp.notion.com/mcp   # production
    oauth:
      scope: "read write"   # least privilege
`);
    await addServer(home, {
      name: 'linear',
      url: 'https://mcp.linear.app/mcp',
      oauth: { client_name: 'My Agent' },
    });
    expect(await readFile(file, 'utf8')).toBe(`# My MCP servers (written by hand)
servers:
  # the wiki
  notion:
    url: https://mcp.notion.com/mcp # production
    oauth:
      scope: "read write" # least privilege
  linear:
    url: https://mcp.linear.app/mcp
    oauth:
      client_name: My Agent
`);
    expect(await mode(file)).toBe(0o600);
    expect([...(await loadConfig(home)).servers.keys()]).toEqual(['notion', 'linear']);
  });

  it('adds to a file whose servers are empty or missing', async () => {
    for (const text of ['# nothing yet\n', 'servers:\n', 'servers: {} # none yet\n']) {
      await writeConfig(text);
      await addServer(home, { name: 'local', url: 'http://localhost:3000/mcp' });
      const written = await readFile(file, 'utf8');
      expect(written).toContain('servers:\n  local:\n    url: http://localhost:3000/mcp\n');
      if (text.includes('#')) expect(written).toContain(text.slice(text.indexOf('#')).trim());
      expect([...(await loadConfig(home)).servers.keys()]).toEqual(['local']);
    }
  });

  it('returns the secret of client_secret_env only when the variable is set, and never shows it', async () => {
    const name = 'MCP_OAUTH_TEST_CONFIG_SECRET';
    delete process.env[name];
    const without = await addServer(home, {
      name: 'a',
      url: 'https://a.example.com/mcp',
      oauth: { client_id: 'a', client_secret_env: name },
    });
    expect(without.oauth.clientSecret).toBeUndefined();
    process.env[name] = 'env-s3cret';
    try {
      const withSecret = await addServer(home, {
        name: 'b',
        url: 'https://b.example.com/mcp',
        oauth: { client_id: 'b', client_secret_env: name },
      });
      expect(withSecret.oauth.clientSecret).toBe('env-s3cret');
      expect(JSON.stringify(withSecret)).not.toContain('s3cret');
      expect(inspect(withSecret)).not.toContain('s3cret');
    } finally {
      delete process.env[name];
    }
    expect(await readFile(file, 'utf8')).not.toContain('s3cret');
  });

  it('loses no entry when several additions run at once (edits are serialized by a lock)', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `server-${i}`);
    await Promise.all(names.map((name) => addServer(home, { name, url: `https://${name}.example.com/mcp` })));
    expect([...(await loadConfig(home)).servers.keys()].sort()).toEqual(names);
  });

  it('refuses to edit a file that is not valid YAML, with the line', async () => {
    await writeConfig('servers:\n  notion:\n    url: https://mcp.notion.com/mcp\n   oauth: {}\n');
    const error = await configErrorOf(addServer(home, { name: 'linear', url: 'https://mcp.linear.app/mcp' }));
    expect(error.message).toBe(
      `${file}: invalid YAML at line 4, column 1: All mapping items must start at the same column.`,
    );
  });
});

describe('addServers', () => {
  const many = (count: number, prefix = 'server') =>
    Array.from({ length: count }, (_, i) => ({
      name: `${prefix}-${i}`,
      url: `https://mcp-${i}.example.com/mcp`,
    }));

  it('adds every server of the batch in order, keeping the comments of an existing file', async () => {
    await writeConfig('# by hand\nservers:\n  notion:\n    url: https://mcp.notion.com/mcp # prod\n');
    const added = await addServers(home, [
      ...many(200),
      { name: 'acme', url: 'https://mcp.acme.example/mcp', oauth: { client_id: 'c', redirect_port: '8976' } },
    ]);
    expect(added.map((s) => s.name)).toEqual([...many(200).map((s) => s.name), 'acme']);
    expect(added.at(-1)).toEqual({
      name: 'acme',
      url: 'https://mcp.acme.example/mcp',
      oauth: { clientId: 'c', redirectPort: 8976 },
    });
    const text = await readFile(file, 'utf8');
    expect(
      text.startsWith(
        '# by hand\nservers:\n  notion:\n    url: https://mcp.notion.com/mcp # prod\n  server-0:\n',
      ),
    ).toBe(true);
    expect(await mode(file)).toBe(0o600);
    const loaded = await loadConfig(home);
    expect(loaded.servers.size).toBe(202);
    expect([...loaded.servers.keys()].slice(0, 3)).toEqual(['notion', 'server-0', 'server-1']);
    expect(loaded.servers.get('acme')?.oauth).toEqual({ clientId: 'c', redirectPort: 8976 });
  });

  it('is all or nothing: one invalid entry, a name taken, or a name given twice writes nothing', async () => {
    await addServer(home, { name: 'notion', url: 'https://mcp.notion.com/mcp' });
    const before = await readFile(file, 'utf8');

    // The error addServer gives for the same entry.
    const single = await configErrorOf(addServer(home, { name: 'bad', url: 'not a url' }));
    const batch = await configErrorOf(addServers(home, [...many(5), { name: 'bad', url: 'not a url' }]));
    expect(batch.message).toBe(single.message);
    expect([batch.file, batch.server, batch.key]).toEqual([single.file, single.server, single.key]);

    const taken = await configErrorOf(
      addServers(home, [...many(5), { name: 'notion', url: 'https://x.example/mcp' }]),
    );
    expect(taken.message).toBe(
      `${file}: servers.notion already exists; choose another name, or remove the existing server first.`,
    );
    const twice = await configErrorOf(addServers(home, [...many(5), ...many(1)]));
    expect(twice.message).toBe(
      `${file}: servers.server-0 already exists; choose another name, or remove the existing server first.`,
    );
    expect(twice.server).toBe('server-0');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('an empty batch creates nothing', async () => {
    const fresh = join(dirname(home), 'untouched-home');
    expect(await addServers(fresh, [])).toEqual([]);
    expect(await exists(fresh)).toBe(false);
  });

  it('loses no entry when batches run at once (one lock per batch)', async () => {
    await Promise.all([
      addServers(home, many(50, 'a')),
      addServers(home, many(50, 'b')),
      addServer(home, many(1, 'c')[0]!),
    ]);
    expect((await loadConfig(home)).servers.size).toBe(101);
  });
});

describe('removeServer', () => {
  it('returns false for a name that is not configured, without creating anything', async () => {
    expect(await removeServer(home, 'notion')).toBe(false);
    expect(await exists(file)).toBe(false);
    const nowhere = join(dirname(home), 'no-such-home');
    expect(await removeServer(nowhere, 'notion')).toBe(false);
    expect(await exists(nowhere)).toBe(false);
    await addServer(home, { name: 'linear', url: 'https://mcp.linear.app/mcp' });
    const before = await readFile(file, 'utf8');
    expect(await removeServer(home, 'notion')).toBe(false);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('removes one server and keeps the comments of the rest', async () => {
    await writeConfig(`# My MCP servers (written by hand)
servers:
  notion:
    url: https://mcp.notion.com/mcp   # production
  # the issue tracker, staging only
  linear:
    url: https://mcp.linear.app/mcp
  # the local one
  local:
    url: http://127.0.0.1:3000/mcp
    oauth:
      redirect_port: 8123   # fixed for DCR
# end of file
`);
    expect(await removeServer(home, 'linear')).toBe(true);
    expect(await readFile(file, 'utf8')).toBe(`# My MCP servers (written by hand)
servers:
  notion:
    url: https://mcp.notion.com/mcp # production
  # the local one
  local:
    url: http://127.0.0.1:3000/mcp
    oauth:
      redirect_port: 8123 # fixed for DCR

# end of file
`);
    expect(await mode(file)).toBe(0o600);
    expect([...(await loadConfig(home)).servers.keys()]).toEqual(['notion', 'local']);
    expect(await removeServer(home, 'linear')).toBe(false);
  });

  it('can remove a broken entry from a file that does not load', async () => {
    await writeConfig(
      `${SERVER}  broken:\n    url: http://example.com/mcp\n    oauth:\n      redirect_port: abc\n`,
    );
    await configErrorOf(loadConfig(home));
    expect(await removeServer(home, 'broken')).toBe(true);
    expect([...(await loadConfig(home)).servers.keys()]).toEqual(['notion']);
  });
});
