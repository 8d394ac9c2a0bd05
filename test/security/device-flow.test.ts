import { describe, expect, it } from 'vitest';
import { MIN_POLL_INTERVAL_SECONDS, runDeviceFlow, SLOW_DOWN_STEP_MS } from '../../src/oauth/device-flow.js';
import { useCleanups } from '../support/testbed.js';
import { startScriptedHttpServer } from './support/scripted-http-server.js';

// A device-authorization server that asks for a poll every millisecond would get a thousand
// token requests a second. The polling interval is floored at 1 s, 5 s when none is given, and
// 5 s longer after each slow_down (RFC 8628 §3.5). The sleep seam records the waits instead of
// waiting them, so the test counts polls without taking seconds per poll.

const cleanups = useCleanups();

async function deviceServer(interval: number | undefined, answers: Array<'pending' | 'slow_down' | 'ok'>) {
  const server = await startScriptedHttpServer();
  cleanups.push(() => server.close());
  let polls = 0;
  server.on('/device', {
    json: {
      device_code: 'dc',
      user_code: 'ABCD-EFGH',
      verification_uri: `${server.url}/activate`,
      expires_in: 600,
      ...(interval === undefined ? {} : { interval }),
    },
  });
  server.on('/token', (_req, _body, res) => {
    const answer = answers[Math.min(polls, answers.length - 1)];
    polls += 1;
    if (answer === 'ok') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 3600 }));
    } else {
      const error = answer === 'pending' ? 'authorization_pending' : 'slow_down';
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
    }
  });
  const waits: number[] = [];
  const run = () =>
    runDeviceFlow({
      server: 'demo',
      discovery: {
        authorizationServerUrl: server.url,
        authorizationServerMetadata: {
          issuer: server.url,
          token_endpoint: `${server.url}/token`,
          device_authorization_endpoint: `${server.url}/device`,
        },
      },
      client: { kind: 'dcr', information: { client_id: 'c' } },
      scope: undefined,
      resource: `${server.url}/mcp`,
      fetchFn: fetch,
      signal: AbortSignal.timeout(20_000),
      now: () => Date.now(),
      show: () => {},
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
  return { run, waits, polls: () => polls };
}

describe('device flow polling (RFC 8628 §3.5)', () => {
  it('an interval of 0.001 s is floored at 1 s; slow_down adds 5 s to this and every later wait', async () => {
    const { run, waits, polls } = await deviceServer(0.001, [
      'pending',
      'pending',
      'slow_down',
      'pending',
      'ok',
    ]);
    const tokens = await run();
    expect(tokens.accessToken).toBe('at');
    expect(polls()).toBe(5);
    const floor = MIN_POLL_INTERVAL_SECONDS * 1000;
    expect(waits).toEqual([floor, floor, floor, floor + SLOW_DOWN_STEP_MS, floor + SLOW_DOWN_STEP_MS]);
  });

  it('without an interval, polls wait 5 s', async () => {
    const { run, waits } = await deviceServer(undefined, ['pending', 'ok']);
    await run();
    expect(waits).toEqual([5000, 5000]);
  });

  it('a larger interval from the server is kept', async () => {
    const { run, waits } = await deviceServer(7, ['ok']);
    await run();
    expect(waits).toEqual([7000]);
  });
});
