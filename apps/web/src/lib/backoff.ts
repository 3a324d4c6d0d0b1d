/** Reconnect delay policy for the live socket: exponential from 1 s, capped at 30 s, with ±20 % jitter. */
export const BACKOFF_BASE_MS = 1_000;
export const BACKOFF_MAX_MS = 30_000;

/**
 * Delay before reconnect attempt `attempt` (0 = first retry after a drop).
 * `random` is injectable so the policy is testable; it must return [0, 1).
 */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const exp = BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(attempt, 16));
  const capped = Math.min(BACKOFF_MAX_MS, exp);
  const jittered = capped * (0.8 + 0.4 * random());
  return Math.round(Math.min(BACKOFF_MAX_MS, jittered));
}
