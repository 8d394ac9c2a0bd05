import type { Clock } from '../clock.js';
import { CircuitOpenError } from '../errors.js';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (default 3). */
  threshold?: number;
  /** First pause once open (default 30 s); doubles after a failed probe, up to `maxCooldownMs`. */
  cooldownMs?: number;
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
    this.threshold = options.threshold ?? 3;
    this.baseCooldown = options.cooldownMs ?? 30_000;
    this.maxCooldown = options.maxCooldownMs ?? 300_000;
    this.cooldown = this.baseCooldown;
  }

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

  succeeded(ticket: { probe: boolean }): void {
    if (ticket.probe) this.probing = false;
    this.reset();
  }

  failed(ticket: { probe: boolean }, error: unknown): void {
    this.lastError = error instanceof Error ? error.message.slice(0, 200) : String(error);
    if (ticket.probe) {
      this.probing = false;
      this.cooldown = Math.min(this.cooldown * 2, this.maxCooldown);
    }
    this.failures++;
    if (this.failures >= this.threshold) this.openedUntil = this.clock.now() + this.cooldown;
  }

  reset(): void {
    this.failures = 0;
    this.openedUntil = 0;
    this.cooldown = this.baseCooldown;
  }
}
