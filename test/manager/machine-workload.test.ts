import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { ConfigError, OAuthManager } from '../../src/index.js';
import {
  JWT_BEARER_GRANT_TYPE,
  machineClient,
  startAuthorizationServer,
  startMcpServer,
} from '../kit/index.js';
import { createWorkloadIssuer } from '../kit/workload-issuer.js';
import { FakeClock } from '../support/fake-clock.js';
import { tempHome } from '../support/temp-home.js';
import { useCleanups } from '../support/testbed.js';
import { writeConfig } from './machine-setup.js';

const cleanups = useCleanups();

describe('workload identity (grant: jwt_bearer with a platform JWT)', () => {
  it('a workload token file rotated on disk is presented at the next mint', async () => {
    const platform = await createWorkloadIssuer();
    const as = await startAuthorizationServer({
      clients: [
        machineClient({ clientId: 'workload', authMethod: 'none', grantTypes: [JWT_BEARER_GRANT_TYPE] }),
      ],
      trustedWorkloadIssuers: [platform.trustedIssuer],
    });
    cleanups.push(() => as.close());
    const mcp = await startMcpServer({ authorizationServer: as.issuer });
    cleanups.push(() => mcp.close());
    const { home, cleanup } = await tempHome();
    cleanups.push(cleanup);
    const tokenFile = join(home, 'workload-token');
    await writeConfig(home, {
      servers: {
        agent: {
          url: mcp.url,
          oauth: {
            grant: 'jwt_bearer',
            client_id: 'workload',
            token_endpoint_auth_method: 'none',
            workload_token_file: tokenFile,
          },
        },
      },
    });
    const first = await platform.mint({ audience: as.issuer, subject: 'system:serviceaccount:ci:first' });
    await writeFile(tokenFile, `${first}\n`);
    const clock = new FakeClock();
    const manager = new OAuthManager({ home, clock, interactive: 'never' });
    cleanups.push(() => manager.close());
    const server = (await loadConfig(home)).servers.get('agent')!;
    manager.getOrBuildProvider('agent', server.url, server.oauth);

    await manager.accessToken('agent');
    expect((await manager.status('agent')).grant).toBe('jwt_bearer');
    // The platform rotates the token in place; nothing tells the manager.
    const second = await platform.mint({ audience: as.issuer, subject: 'system:serviceaccount:ci:second' });
    await writeFile(tokenFile, second);
    clock.set(Date.parse((await manager.status('agent')).expiresAt!) + 1000);
    await manager.accessToken('agent');

    const seen = as.stats.jwtBearerAssertions;
    expect(seen.map((a) => [a.kind, a.sub, a.jti, a.accepted])).toEqual([
      ['workload', 'system:serviceaccount:ci:first', decodeJwt(first).jti, true],
      ['workload', 'system:serviceaccount:ci:second', decodeJwt(second).jti, true],
    ]);

    // A file that holds no JWT: a ConfigError naming it, no request.
    await writeFile(tokenFile, 'not a jwt');
    clock.set(Date.parse((await manager.status('agent')).expiresAt!) + 1000);
    as.resetStats();
    const error = await manager.accessToken('agent').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(tokenFile);
    expect(as.stats.tokenRequests).toBe(0);
  }, 120_000);
});
