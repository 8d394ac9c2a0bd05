import { Client, type FetchLike, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { CredentialRecord, OAuthManager } from '../src/index.js';
import type { TestMcpServer } from '../test/kit/mcp-server.js';
import { cloneRecordFor } from './fake-record.js';
import type { PlainMcpServer } from './plain-mcp-server.js';

export interface RoundTripVariant {
  /** Median latency of one sequential `callTool` round trip, µs. */
  medianUs: number;
  p90Us: number;
  p99Us: number;
  /** Calls per second with 64 calls in flight. */
  throughputPerSec: number;
}

export interface RoundTripResult {
  sequentialCalls: number;
  concurrentCalls: number;
  /** No auth anywhere: a plain client against the plain server. */
  unauthenticated: RoundTripVariant;
  /** Our provider on the client (token() + the recording fetch), against the plain server: the client-side cost alone. */
  clientSideAuth: RoundTripVariant;
  /** Our provider against the test kit's server, which verifies the RS256 JWT on every request. */
  authenticated: RoundTripVariant;
  /** authenticated / unauthenticated, median latency. */
  latencyRatio: number;
  /** clientSideAuth / unauthenticated, median latency. */
  clientSideLatencyRatio: number;
  /** unauthenticated / authenticated throughput (how many times more calls per second without auth). */
  throughputRatio: number;
}

type Caller = () => Promise<unknown>;

async function connect(url: string, options: ConstructorParameters<typeof StreamableHTTPClientTransport>[1]) {
  const client = new Client({ name: 'bench-round-trip', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), options));
  return client;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/**
 * One tool call round trip over loopback with and without auth, same SDK client and server code
 * on both sides. Variants are interleaved round by round, so drift affects them alike.
 */
export async function benchRoundTrip(input: {
  manager: OAuthManager;
  /** The kit server and the name of a logged-in credential for it. */
  mcp: TestMcpServer;
  name: string;
  plain: PlainMcpServer;
  baseFetch: FetchLike;
  now: number;
  rounds: number;
  sequentialPerRound: number;
  concurrentPerRound: number;
}): Promise<RoundTripResult> {
  const { manager } = input;
  // The client-side-only variant needs a credential bound to the plain server's URL (a token is
  // never sent to a server it is not bound to); the plain server ignores it.
  const template = (await manager.store.get({ server: input.name })) as CredentialRecord;
  const plainName = `${input.name}-plain`;
  await manager.store.put(
    { server: plainName },
    cloneRecordFor(template, plainName, input.plain.url, input.now),
    null,
  );
  const authed = manager.getOrBuildProvider(input.name, input.mcp.url);
  const plainAuthed = manager.getOrBuildProvider(plainName, input.plain.url);
  const clients = {
    unauthenticated: await connect(input.plain.url, { fetch: input.baseFetch }),
    clientSideAuth: await connect(input.plain.url, { authProvider: plainAuthed, fetch: plainAuthed.fetch }),
    authenticated: await connect(input.mcp.url, { authProvider: authed, fetch: authed.fetch }),
  };
  type Key = keyof typeof clients;
  const keys = Object.keys(clients) as Key[];
  const call = (key: Key): Caller => {
    const client = clients[key];
    return () => client.callTool({ name: 'echo', arguments: { text: 'ping' } });
  };
  const latencies: Record<Key, number[]> = { unauthenticated: [], clientSideAuth: [], authenticated: [] };
  const throughput: Record<Key, number[]> = { unauthenticated: [], clientSideAuth: [], authenticated: [] };
  try {
    // Warm-up: JIT, connection pool, the servers' first requests.
    for (const key of keys) for (let i = 0; i < input.sequentialPerRound; i++) await call(key)();
    for (let r = 0; r < input.rounds; r++) {
      for (const key of keys) {
        const fn = call(key);
        for (let i = 0; i < input.sequentialPerRound; i++) {
          const start = process.hrtime.bigint();
          await fn();
          latencies[key].push(Number(process.hrtime.bigint() - start) / 1000);
        }
      }
      for (const key of keys) {
        const fn = call(key);
        let next = 0;
        const start = performance.now();
        await Promise.all(
          Array.from({ length: 64 }, async () => {
            while (next++ < input.concurrentPerRound) await fn();
          }),
        );
        throughput[key].push(input.concurrentPerRound / ((performance.now() - start) / 1000));
      }
    }
  } finally {
    for (const client of Object.values(clients)) await client.close().catch(() => {});
  }
  const variant = (key: Key): RoundTripVariant => {
    const sorted = [...latencies[key]].sort((a, b) => a - b);
    const rates = [...throughput[key]].sort((a, b) => a - b);
    return {
      medianUs: percentile(sorted, 0.5),
      p90Us: percentile(sorted, 0.9),
      p99Us: percentile(sorted, 0.99),
      throughputPerSec: rates[Math.floor(rates.length / 2)]!,
    };
  };
  const unauthenticated = variant('unauthenticated');
  const clientSideAuth = variant('clientSideAuth');
  const authenticated = variant('authenticated');
  return {
    sequentialCalls: input.rounds * input.sequentialPerRound,
    concurrentCalls: input.rounds * input.concurrentPerRound,
    unauthenticated,
    clientSideAuth,
    authenticated,
    latencyRatio: authenticated.medianUs / unauthenticated.medianUs,
    clientSideLatencyRatio: clientSideAuth.medianUs / unauthenticated.medianUs,
    throughputRatio: unauthenticated.throughputPerSec / authenticated.throughputPerSec,
  };
}
