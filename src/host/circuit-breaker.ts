import type { Clock } from '../clock.js';
import { CircuitOpenError } from '../errors.js';

/** Default `threshold`: consecutive failures that open the circuit. */
export const DEFAULT_FAILURE_THRESHOLD = 3;
/** Default `cooldownMs`: the first pause once the circuit opens. */
export const DEFAULT_COOLDOWN_MS = 30_000;
/** Default `maxCooldownMs`: the longest pause, however many probes failed. */
export const DEFAULT_MAX_COOLDOWN_MS = 300_000;
/** How much of the last failure's message a CircuitOpenError quotes. */
const LAST_ERROR_MAX_CHARS = 200;

/** When a CircuitBreaker opens and for how long; every option is optional. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default {@link DEFAULT_FAILURE_THRESHOLD}). */
  threshold?: number;
  /**
   * First pause once open (default {@link DEFAULT_COOLDOWN_MS}); doubles after a failed probe, up
   * to `maxCooldownMs`.
   */
  cooldownMs?: number;
  /** The longest pause (default {@link DEFAULT_MAX_COOLDOWN_MS}). */
  maxCooldownMs?: number;
}

/**
 * Closed → (N consecutive failures) → open: calls fail fast with CircuitOpenError → after the
 * cooldown, half-open: exactly one probe goes through; its success closes the circuit, its
 * failure opens it again for twice as long. `reset()` (a credential change) closes it at once.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedUntil = 0;
  private cooldown: number;
  private probing = false;
  private lastError = '';
  private readonly threshold: number;
  private readonly baseCooldown: number;
  private readonly maxCooldown: number;

  constructor(
    private readonly server: string,
    private readonly clock: Clock,
    options: CircuitBreakerOptions = {},
  ) {
    this.threshold = options.threshold ?? DEFAULT_FAILURE_THRESHOLD;
    this.baseCooldown = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
    this.maxCooldown = options.maxCooldownMs ?? DEFAULT_MAX_COOLDOWN_MS;
    this.cooldown = this.baseCooldown;
  }

  /** `open` while calls fail fast; `half-open` once the cooldown has passed (the next call probes). */
  get state(): 'closed' | 'open' | 'half-open' {
    if (this.failures < this.threshold) return 'closed';
    return this.clock.now() < this.openedUntil ? 'open' : 'half-open';
  }

  /** Throws CircuitOpenError when the call must not go out; returns a token for `succeeded/failed`. */
  admit(): { probe: boolean } {
    const state = this.state;
    if (state === 'closed') return { probe: false };
    if (state === 'open' || this.probing) {
      const wait = Math.max(0, this.openedUntil - this.clock.now());
      throw new CircuitOpenError(this.server, wait || this.cooldown, this.lastError);
    }
    this.probing = true;
    return { probe: true };
  }

  /** The admitted call succeeded (or the server answered): closes the circuit. */
  succeeded(ticket: { probe: boolean }): void {
    if (ticket.probe) this.probing = false;
    this.reset();
  }

  /** The admitted call failed: counts it, and opens the circuit at the threshold (a failed probe doubles the cooldown). */
  failed(ticket: { probe: boolean }, error: unknown): void {
    this.lastError = error instanceof Error ? error.message.slice(0, LAST_ERROR_MAX_CHARS) : String(error);
    if (ticket.probe) {
      this.probing = false;
      this.cooldown = Math.min(this.cooldown * 2, this.maxCooldown);
    }
    this.failures++;
    if (this.failures >= this.threshold) this.openedUntil = this.clock.now() + this.cooldown;
  }

  /** Closes the circuit and forgets the failures (a new credential deserves a fresh start). */
  reset(): void {
    this.failures = 0;
    this.openedUntil = 0;
    this.cooldown = this.baseCooldown;
  }
}
