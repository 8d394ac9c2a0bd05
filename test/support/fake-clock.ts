import type { Clock } from '../../src/clock.js';

/** A clock tests move by hand; starts at the real time so real servers' JWTs stay valid. */
export class FakeClock implements Clock {
  private current = Date.now();
  now(): number {
    return this.current;
  }
  set(epochMs: number): void {
    this.current = epochMs;
  }
  advance(ms: number): void {
    this.current += ms;
  }
}
