import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { LeaseLostError, LockTimeoutError, StoreUnavailableError } from '../errors.js';
import type { RedisConnection } from './redis-connection.js';
import type { CredentialKeys, LeasePurpose } from './redis-keys.js';
import { ACQUIRE_SCRIPT, RELEASE_SCRIPT, RENEW_SCRIPT } from './redis-scripts.js';

/** A lease this process holds: what the write scripts check (fencing) and what renewal keeps alive. */
export interface Lease {
  readonly record: string;
  readonly purpose: LeasePurpose;
  readonly lockKey: string;
  readonly fenceKey: string;
  readonly token: string;
  /** The fencing value of this grant: a write under it is refused once a later grant happened. */
  readonly fence: string;
  /** Set when renewal found the lease gone (expired and maybe granted to another holder). */
  lost: boolean;
}

/** The first and the longest wait between two attempts to take a held lock, ms. */
const RETRY_FIRST_MS = 10;
const RETRY_MAX_MS = 250;
/** Head room asked beyond `needMs` by `assert`, for the time between the check and the request. */
const ASSERT_MARGIN_MS = 2_000;

/**
 * Lease locks on Redis, one per credential and purpose: `SET NX PX` with a random owner token,
 * renewed (at a third of the lease) while held, released by compare-and-delete. Each grant
 * increments a fencing counter; the leases held by the running async context are visible to the
 * store's write scripts (AsyncLocalStorage), which refuse a write whose fence is no longer the
 * latest, so a holder paused past its lease can never overwrite what the next holder wrote.
 */
export class RedisLeaseLock {
  private readonly held = new AsyncLocalStorage<readonly Lease[]>();
  private readonly active = new Set<{ lease: Lease; timer: NodeJS.Timeout }>();

  constructor(
    private readonly connection: RedisConnection,
    private readonly defaultLeaseMs: number,
  ) {}

  /** Runs `fn` holding the lease of `keys` for `purpose`; waits at most `waitMs` for it. */
  async withLease<T>(
    keys: CredentialKeys,
    purpose: LeasePurpose,
    what: string,
    waitMs: number,
    leaseMs: number | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const ms = Math.max(1_000, Math.round(leaseMs ?? this.defaultLeaseMs));
    const lease = await this.acquire(keys, purpose, what, waitMs, ms);
    const timer = setInterval(() => void this.renew(lease, ms), Math.max(250, Math.floor(ms / 3)));
    timer.unref();
    const entry = { lease, timer };
    this.active.add(entry);
    try {
      return await this.held.run([...(this.held.getStore() ?? []), lease], fn);
    } finally {
      clearInterval(timer);
      this.active.delete(entry);
      await this.connection.run(RELEASE_SCRIPT, [lease.lockKey], [lease.token]).catch(() => {
        // Unreachable store: the lease expires by itself.
      });
    }
  }

  /** The lease the running context holds on `record` (a refresh lease before a login lease). */
  current(record: string): Lease | undefined {
    const leases = this.held.getStore();
    if (!leases) return undefined;
    let found: Lease | undefined;
    for (const lease of leases) {
      if (lease.record !== record) continue;
      if (lease.purpose === 'refresh') return lease;
      found = lease;
    }
    return found;
  }

  /**
   * Makes sure the lease the running context holds on `record` stays valid for `needMs` more:
   * extends it when shorter, atomically with checking it is still this holder's and still the
   * latest grant. LeaseLostError when it is not. No lease held: nothing to check.
   */
  async assert(record: string, needMs: number, what: string): Promise<void> {
    const lease = this.current(record);
    if (!lease) return;
    if (lease.lost) throw new LeaseLostError(what);
    const left = Number(
      await this.connection.run(
        RENEW_SCRIPT,
        [lease.lockKey, lease.fenceKey],
        [lease.token, lease.fence, String(Math.ceil(needMs + ASSERT_MARGIN_MS))],
      ),
    );
    if (left < 0) {
      lease.lost = true;
      throw new LeaseLostError(what);
    }
  }

  /** Stops every renewal (the store is closing); the leases expire or are released by their holders. */
  close(): void {
    for (const { timer } of this.active) clearInterval(timer);
    this.active.clear();
  }

  private async acquire(
    keys: CredentialKeys,
    purpose: LeasePurpose,
    what: string,
    waitMs: number,
    leaseMs: number,
  ): Promise<Lease> {
    const token = randomBytes(16).toString('base64url');
    const lockKey = keys.lock(purpose);
    const fenceKey = keys.fence(purpose);
    const deadline = Date.now() + waitMs;
    let pause = RETRY_FIRST_MS;
    let unreachable: StoreUnavailableError | undefined;
    for (;;) {
      try {
        const reply = (await this.connection.run(
          ACQUIRE_SCRIPT,
          [lockKey, fenceKey],
          [token, String(leaseMs)],
        )) as [number, number];
        unreachable = undefined;
        if (Number(reply[0]) === 1) {
          return {
            record: keys.record,
            purpose,
            lockKey,
            fenceKey,
            token,
            fence: String(reply[1]),
            lost: false,
          };
        }
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        // Redis restarting or briefly unreachable: keep trying within the bounded wait.
        unreachable = error;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        if (unreachable) throw unreachable;
        throw new LockTimeoutError(what, waitMs);
      }
      // Jittered, growing pauses: waiters do not hammer Redis nor retry in lock step.
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, pause * (0.5 + Math.random()))));
      pause = Math.min(RETRY_MAX_MS, pause * 2);
    }
  }

  private async renew(lease: Lease, leaseMs: number): Promise<void> {
    if (lease.lost) return;
    try {
      const left = Number(
        await this.connection.run(
          RENEW_SCRIPT,
          [lease.lockKey, lease.fenceKey],
          [lease.token, lease.fence, String(leaseMs)],
        ),
      );
      if (left < 0) lease.lost = true;
    } catch {
      // Unreachable for now: the next renewal tries again; if the lease expires meanwhile, fencing
      // refuses this holder's writes.
    }
  }
}
