/**
 * Human durations for people (machines get `expiresIn` seconds in --json).
 * `short` is for table cells (`59m`, `2h 3m`), `long` for sentences (`59 min`, `2 h 3 min`).
 */
export function humanDuration(seconds: number, form: 'short' | 'long' = 'short'): string {
  const s = Math.max(0, Math.round(seconds));
  const [d, h, m] = [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), Math.floor((s % 3600) / 60)];
  const unit = (n: number, short: string, long: string) =>
    form === 'short' ? `${n}${short}` : `${n} ${long}`;
  if (d > 0) return h > 0 ? `${unit(d, 'd', 'd')} ${unit(h, 'h', 'h')}` : unit(d, 'd', 'd');
  if (h > 0) return m > 0 ? `${unit(h, 'h', 'h')} ${unit(m, 'm', 'min')}` : unit(h, 'h', 'h');
  if (m > 0) return unit(m, 'm', 'min');
  return unit(s, 's', 's');
}

/**
 * The EXPIRES IN cell: `-` when there is no token, `unknown` for a usable token whose server gave
 * no lifetime (it is used until the server answers 401, then refreshed), `expired` once it has
 * passed.
 */
export function expiresInCell(state: string, expiresIn: number | null): string {
  if (state === 'logged_out' || state === 'needs_reauth' || state === 'error') return '-';
  if (expiresIn === null) return 'unknown';
  if (state === 'expired' || expiresIn <= 0) return 'expired';
  return humanDuration(expiresIn, 'short');
}

/** Elapsed time on the spinner: `7s`, then `1m 05s` (fixed width seconds so the line does not jitter). */
export function elapsed(ms: number): string {
  const total = Math.floor(ms / 1000);
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes > 0 ? `${minutes}m ${String(seconds).padStart(2, '0')}s` : `${seconds}s`;
}
