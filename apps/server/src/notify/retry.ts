/**
 * Bounded retries for one notification channel: exponential backoff with full
 * jitter (the same scheme as the generator's writer, so a receiver recovering
 * from an outage is not hit by every replica in lock-step), a time limit per
 * attempt, and an early stop on errors that another attempt cannot fix.
 * Never throws: the caller records the result on the alert.
 */

export interface RetryPolicy {
  /** Most attempts in total, the first included (1 = no retry). */
  attempts: number;
  /** Upper bound of the first backoff; it doubles per attempt up to maxDelayMs. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** One attempt is abandoned (and counts as failed) after this long. */
  timeoutMs: number;
}

/** About 1 + 2 + 4 s of backoff at most: a down channel is given up on well within a detector pass. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelayMs: 1000, maxDelayMs: 8000, timeoutMs: 10_000 };

/** An error another attempt would not fix (a 400 from a webhook, a rejected recipient). */
export class PermanentError extends Error {
  override name = 'PermanentError';
}

/** A transient error that carries the receiver's own hint of when to come back (Retry-After). */
export class RetryLaterError extends Error {
  override name = 'RetryLaterError';
  constructor(
    message: string,
    readonly retryAfterMs: number | undefined,
  ) {
    super(message);
  }
}

export interface RetryResult {
  ok: boolean;
  attempts: number;
  /** The last attempt's error message when ok is false. */
  error?: string;
}

export interface RetryDeps {
  random?: () => number;
  /** Aborted when the notifier closes: no new attempt starts, a waiting backoff ends at once. */
  stop?: AbortSignal;
}

/**
 * Runs `attempt` until it resolves, fails permanently, or the attempts run out.
 * Each call gets a signal that aborts when its time is up (or on stop); a call
 * that ignores its signal is still abandoned at the time limit.
 */
export async function withRetry(
  attempt: (signal: AbortSignal, n: number) => Promise<void>,
  policy: RetryPolicy,
  deps: RetryDeps = {},
): Promise<RetryResult> {
  const random = deps.random ?? Math.random;
  let lastError = 'not attempted';
  for (let n = 1; n <= policy.attempts; n++) {
    if (deps.stop?.aborted) return { ok: false, attempts: n - 1, error: `${lastError}; gave up: notifier closed` };
    try {
      await runWithTimeout(attempt, n, policy.timeoutMs, deps.stop);
      return { ok: true, attempts: n };
    } catch (err) {
      lastError = errorMessage(err);
      if (err instanceof PermanentError) return { ok: false, attempts: n, error: lastError };
      if (n === policy.attempts) break;
      const hint = err instanceof RetryLaterError ? err.retryAfterMs : undefined;
      await sleep(backoffDelay(n, policy, random, hint), deps.stop);
    }
  }
  return { ok: false, attempts: policy.attempts, error: lastError };
}

/** delay = random() x min(maxDelayMs, initialDelayMs x 2^(n-1)); a Retry-After hint raises it, still capped. */
export function backoffDelay(n: number, policy: RetryPolicy, random: () => number, retryAfterMs?: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(n - 1, 30));
  let delay = Math.floor(Math.min(Math.max(random(), 0), 1) * cap);
  if (retryAfterMs !== undefined && retryAfterMs > 0) delay = Math.max(delay, Math.min(retryAfterMs, policy.maxDelayMs));
  return delay;
}

async function runWithTimeout(
  attempt: (signal: AbortSignal, n: number) => Promise<void>,
  n: number,
  timeoutMs: number,
  stop: AbortSignal | undefined,
): Promise<void> {
  const controller = new AbortController();
  const timedOut = new Error(`timed out after ${timeoutMs} ms`);
  let timer: NodeJS.Timeout | undefined;
  const onStop = () => controller.abort(new Error('notifier closed'));
  stop?.addEventListener('abort', onStop, { once: true });
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort(timedOut);
      reject(timedOut);
    }, timeoutMs);
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  try {
    await Promise.race([attempt(controller.signal, n), deadline]);
  } catch (err) {
    // fetch reports an abort as its own AbortError; say why it was aborted instead.
    throw controller.signal.aborted ? controller.signal.reason : err;
  } finally {
    clearTimeout(timer);
    stop?.removeEventListener('abort', onStop);
  }
}

function sleep(ms: number, stop: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (stop?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop?.addEventListener('abort', done, { once: true });
  });
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
