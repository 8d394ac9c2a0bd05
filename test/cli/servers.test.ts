import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Testbed } from '../kit/index.js';
import { scriptedBrowserHook } from '../support/browser-hook.js';
import { type CliOptions, useCliTestbed } from './harness.js';

const t = useCliTestbed();
let bed: Testbed;
let home: string;
beforeEach(() => {
  ({ bed, home } = t);
});
const browser = scriptedBrowserHook();
const cli = (args: string[], env: CliOptions['env'] = {}, options: CliOptions = {}) =>
  t.cli(args, { env, ...options });

describe('mcp-oauth servers', () => {
  it('add writes config.yaml (0600, home 0700) with the options as oauth keys; list shows them', async () => {
    const added = await cli(
      [
        'servers',
        'add',
        'acme',
        'https://mcp.acme.example/mcp',
        '--client-id',
        'cli-123',
        '--client-secret-env',
        'ACME_SECRET',
        '--scope',
        'read write',
        '--redirect-port',
        '8976',
      ],
      { ACME_SECRET: 's3cret-value' },
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain(`Next: mcp-oauth --home ${home} login acme`);
    const yaml = await readFile(join(home, 'config.yaml'), 'utf8');
    expect(yaml).toContain('client_id: cli-123');
    expect(yaml).toContain('client_secret_env: ACME_SECRET');
    expect(yaml).toMatch(/redirect_port: 8976/);

    expect((await stat(home)).mode & 0o777).toBe(0o700);
    expect((await stat(join(home, 'config.yaml'))).mode & 0o777).toBe(0o600);

    const list = await cli(['servers', 'list', '--json'], { ACME_SECRET: 's3cret-value' });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({
      servers: [
        {
          name: 'acme',
          url: 'https://mcp.acme.example/mcp',
          clientId: 'cli-123',
          clientMetadataUrl: null,
          hasClientSecret: true,
          scope: 'read write',
          redirectPort: 8976,
        },
      ],
    });
    expect(list.stdout).not.toContain('s3cret-value');
    const table = await cli(['servers', 'list'], { ACME_SECRET: 's3cret-value' });
    expect(table.stdout).toBe(
      'NAME  URL                           CLIENT\nacme  https://mcp.acme.example/mcp  preregistered: cli-123\n',
    );
  });

  it('add refuses a plain-http URL that is not loopback (exit 2)', async () => {
    const result = await cli(['servers', 'add', 'bad', 'http://mcp.example.com/mcp']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: .*https/);
  });

  it('remove revokes at the server and deletes the credential, the client and the configuration', async () => {
    expect((await cli(['servers', 'add', 'kit', bed.mcp.url])).code).toBe(0);
    expect((await cli(['login', 'kit'], {}, { openBrowser: browser })).code).toBe(0);
    expect(await readdir(join(home, 'credentials'))).not.toEqual([]);
    const revocations = bed.as.stats.revocations;

    const removed = await cli(['servers', 'remove', 'kit']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(
      '✓ Removed kit (configuration, tokens and client registration); tokens revoked at the server\n',
    );
    expect(bed.as.stats.revocations).toBe(revocations + 1);
    expect((await readdir(join(home, 'credentials'))).filter((f) => f.endsWith('.json'))).toEqual([]);
    expect(JSON.parse((await cli(['status', '--json'])).stdout)).toEqual({ servers: [] });

    const again = await cli(['servers', 'remove', 'kit']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("Unknown server 'kit'");
  });
});

describe('a server whose client_secret_env is unset', () => {
  it('is an error row in status (exit 1), a config error when used (exit 2), and can still be removed', async () => {
    await cli(['servers', 'add', 'good', bed.mcp.url]);
    await cli([
      'servers',
      'add',
      'acme',
      'https://mcp.acme.example/mcp',
      '--client-id',
      'c',
      '--client-secret-env',
      'ACME_SECRET_UNSET',
    ]);
    const status = await cli(['status', '--json']);
    // A health check: an error row is neither usable nor fixed by a login.
    expect(status.code).toBe(1);
    const servers = JSON.parse(status.stdout).servers as Array<{
      name: string;
      state: string;
      error: string | null;
    }>;
    expect(servers.find((s) => s.name === 'good')?.state).toBe('logged_out');
    const acme = servers.find((s) => s.name === 'acme')!;
    expect(acme.state).toBe('error');
    expect(acme.error).toContain('ACME_SECRET_UNSET, which is not set');
    const login = await cli(['login', 'acme']);
    expect(login.code).toBe(2);
    expect(login.stderr).toContain('export ACME_SECRET_UNSET=');
    const removed = await cli(['servers', 'remove', 'acme']);
    expect(removed.code).toBe(0);
    expect((await cli(['servers', 'list', '--json'])).stdout).not.toContain('acme');
  });
});
