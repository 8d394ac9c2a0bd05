/** Time source. Injected so tests (and the cross-process suites) can move time without waiting. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };
