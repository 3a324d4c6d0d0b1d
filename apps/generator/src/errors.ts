/**
 * Write failures, split by what the buffered writer should do about them.
 */

/** The target refused the data itself (HTTP 400/401/403/404/413/422...): retrying cannot help. */
export class PermanentWriteError extends Error {
  override name = 'PermanentWriteError';
  readonly status: number | undefined;
  constructor(message: string, opts: { status?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.status = opts.status;
  }
}

/** A failure worth retrying (408/429/5xx, network, timeout). Plain Errors are treated the same. */
export class RetriableWriteError extends Error {
  override name = 'RetriableWriteError';
  readonly status: number | undefined;
  /** From a Retry-After header: the writer waits at least this long (capped by its maxMs). */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, opts: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.status = opts.status;
    this.retryAfterMs = opts.retryAfterMs;
  }
}
