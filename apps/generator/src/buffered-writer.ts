/**
 * A bounded, ordered, retrying queue in front of any `send`.
 *
 * Guarantees (the spec's "no generator sample lost within the buffer bound"):
 * - exactly one send in flight; batches go out oldest first, samples in enqueue order;
 * - a retriable failure keeps the batch and retries it after exponential backoff with
 *   full jitter (delay = random() x min(maxMs, initialMs x 2^(attempt-1)));
 * - a PermanentWriteError drops that batch (counted as rejected), since resending
 *   the same bytes cannot succeed;
 * - past maxBufferedPoints the OLDEST points are dropped (counted, warned about).
 *   Points of a send in flight cannot be taken back, so the bound can be exceeded by
 *   at most one batch (maxBatchPoints) until that send settles.
 * Nothing here throws into the caller or leaves a rejected promise unhandled.
 */
import type { ColdStartSample } from '@edgeworker/schema';
import type { Logger } from 'pino';
import { PermanentWriteError, RetriableWriteError } from './errors.ts';
import { createWakeableSleep, fullJitterDelay } from './backoff.ts';
import { createDropReporter } from './drop-reporter.ts';

// A type alias, not an interface: aliases are assignable to Record<string, unknown>, so
// `stats: writer.stats` fits startHealthServer's `WriterStats & Record<string, unknown>`.
export type WriterStats = {
  bufferedPoints: number;
  bufferedBatches: number;
  sentPoints: number;
  droppedPoints: number;
  rejectedPoints: number;
  consecutiveFailures: number;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastWriteLatencyMs: number | null;
};

export interface BufferedWriterOptions {
  send: (samples: ColdStartSample[]) => Promise<void>;
  /** Default 1_000_000 (about 11 minutes of 300 POPs x 5 functions at 10 s). */
  maxBufferedPoints?: number;
  /** Default 5000: queued batches are merged up to this size, larger ones split. */
  maxBatchPoints?: number;
  backoff?: { initialMs?: number; maxMs?: number };
  /** [0, 1) source for jitter; injectable so tests know the exact delays. */
  random?: () => number;
  log?: Logger;
}

export interface BufferedWriter {
  enqueue(samples: ColdStartSample[]): void;
  /** Resolves true once everything is sent (or rejected), false after timeoutMs. Cuts a pending backoff short. */
  flush(timeoutMs: number): Promise<boolean>;
  stats(): WriterStats;
  /** Stops sending (waits for a send in flight to settle); what is still buffered is lost and logged. */
  close(): Promise<void>;
}

export function createBufferedWriter(opts: BufferedWriterOptions): BufferedWriter {
  const maxBuffered = positive(opts.maxBufferedPoints ?? 1_000_000, 'maxBufferedPoints');
  const maxBatch = positive(opts.maxBatchPoints ?? 5000, 'maxBatchPoints');
  const initialMs = positive(opts.backoff?.initialMs ?? 500, 'backoff.initialMs');
  const maxMs = positive(opts.backoff?.maxMs ?? 30_000, 'backoff.maxMs');
  const random = opts.random ?? Math.random;
  const log = opts.log;
  const drops = createDropReporter({ maxBufferedPoints: maxBuffered, log });

  const queue: ColdStartSample[][] = [];
  let queuedPoints = 0;
  let current: ColdStartSample[] | null = null; // the batch being sent or waiting to be retried
  let inFlight = false;
  let pumpActive = false;
  let pumpDone: Promise<void> = Promise.resolve();
  let closed = false;
  let retryAttempt = 0;
  const { sleep, wake } = createWakeableSleep();
  const drainWaiters = new Set<(drained: boolean) => void>();
  const s = { sentPoints: 0, droppedPoints: 0, rejectedPoints: 0, consecutiveFailures: 0 };
  let lastSuccessAt: string | null = null;
  let lastError: string | null = null;
  let lastWriteLatencyMs: number | null = null;

  const buffered = (): number => (current?.length ?? 0) + queuedPoints;

  function enforceBound(): void {
    let excess = buffered() - maxBuffered;
    if (excess <= 0) return;
    let dropped = 0;
    if (current !== null && !inFlight) {
      const k = Math.min(excess, current.length);
      // New arrays rather than splice: a send that failed may still hold the old one.
      current = current.length > k ? current.slice(k) : null;
      excess -= k;
      dropped += k;
    }
    while (excess > 0 && queue.length > 0) {
      const head = queue[0]!;
      const k = Math.min(excess, head.length);
      if (k === head.length) queue.shift();
      else head.splice(0, k);
      queuedPoints -= k;
      excess -= k;
      dropped += k;
    }
    s.droppedPoints += dropped;
    drops.dropped(dropped);
  }

  /** Tops the current batch up with queued batches, oldest first, up to maxBatch points. */
  function fillCurrent(): ColdStartSample[] | null {
    const batch = current === null ? [] : current.slice();
    while (queue.length > 0 && batch.length + queue[0]!.length <= maxBatch) {
      const seg = queue.shift()!;
      queuedPoints -= seg.length;
      for (const sample of seg) batch.push(sample);
    }
    current = batch.length > 0 ? batch : null;
    return current;
  }

  function checkDrained(): void {
    if (buffered() > 0 || inFlight) return;
    for (const w of [...drainWaiters]) w(true);
  }

  async function sendOnce(batch: ColdStartSample[]): Promise<void> {
    inFlight = true;
    const t0 = performance.now();
    try {
      // Promise.resolve().then: a send that throws synchronously is caught the same way.
      await Promise.resolve().then(() => opts.send(batch));
      const latencyMs = Math.round((performance.now() - t0) * 10) / 10;
      inFlight = false;
      current = null;
      s.sentPoints += batch.length;
      s.consecutiveFailures = 0;
      retryAttempt = 0;
      lastSuccessAt = new Date().toISOString();
      lastWriteLatencyMs = latencyMs;
      log?.info({ points: batch.length, latencyMs, buffered: buffered() }, 'write confirmed');
      drops.report();
      return;
    } catch (err) {
      inFlight = false;
      s.consecutiveFailures += 1;
      lastError = err instanceof Error ? err.message : String(err);
      if (err instanceof PermanentWriteError) {
        current = null;
        retryAttempt = 0;
        s.rejectedPoints += batch.length;
        log?.error({ err, points: batch.length }, 'target rejected the batch; dropped it (retrying cannot help)');
        return;
      }
      retryAttempt += 1;
      enforceBound(); // points of the failed batch can be dropped now that it is no longer in flight
      if (closed) return;
      const hint = err instanceof RetriableWriteError ? err.retryAfterMs : undefined;
      const retryInMs = fullJitterDelay(retryAttempt, { initialMs, maxMs }, random, hint);
      log?.warn(
        { error: lastError, attempt: retryAttempt, retryInMs, buffered: buffered() },
        'write failed; keeping the batch and retrying',
      );
      await sleep(retryInMs);
    }
  }

  async function pump(): Promise<void> {
    while (!closed) {
      const batch = fillCurrent();
      if (batch === null) break;
      await sendOnce(batch);
      checkDrained();
    }
    pumpActive = false; // set in the same synchronous step as the empty check above
    checkDrained();
  }

  function kick(): void {
    if (pumpActive || closed) return;
    pumpActive = true;
    pumpDone = pump().catch((err: unknown) => {
      pumpActive = false;
      log?.error({ err }, 'buffered writer loop failed unexpectedly');
    });
  }

  return {
    enqueue(samples) {
      try {
        if (samples.length === 0) return;
        if (closed) {
          s.droppedPoints += samples.length;
          log?.warn({ dropped: samples.length }, 'writer is closed; dropped a batch enqueued after close()');
          return;
        }
        for (let i = 0; i < samples.length; i += maxBatch) {
          queue.push(samples.slice(i, i + maxBatch));
        }
        queuedPoints += samples.length;
        enforceBound();
        kick();
      } catch (err) {
        log?.error({ err }, 'enqueue failed unexpectedly');
      }
    },

    flush(timeoutMs) {
      if (buffered() === 0 && !inFlight) return Promise.resolve(true);
      if (closed) return Promise.resolve(false);
      wake();
      kick();
      return new Promise<boolean>((resolve) => {
        const done = (drained: boolean): void => {
          clearTimeout(timer);
          drainWaiters.delete(done);
          resolve(drained);
        };
        const timer = setTimeout(() => done(false), Math.max(0, timeoutMs));
        drainWaiters.add(done);
      });
    },

    stats() {
      return {
        bufferedPoints: buffered(),
        bufferedBatches: (current === null ? 0 : 1) + queue.length,
        ...s,
        lastSuccessAt,
        lastError,
        lastWriteLatencyMs,
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      wake();
      await pumpDone;
      drops.report();
      const lost = buffered();
      if (lost > 0) log?.warn({ lost, lastError }, `closing with ${lost} points not written; they are lost`);
      for (const w of [...drainWaiters]) w(lost === 0);
    },
  };
}

function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got ${value})`);
  return value;
}
