/**
 * Wraps any MetricsStore with circuit breakers, so an unreachable store costs a
 * fast, clear failure instead of a pile of requests each waiting for its timeout.
 *
 * closed ──(N consecutive failures)──▶ open ──(backoff elapsed)──▶ half-open
 *    ▲                                   ▲                            │ one probe (ping)
 *    └───────────── probe succeeds ──────┼──────── probe fails ◀──────┘ (backoff doubles)
 *
 * While open, calls fail at once with BreakerOpenError (the cached queries then answer
 * last-good results, the generator's buffered writer keeps its samples). Probes use
 * exponential backoff with full jitter; recovery needs no restart.
 *
 * Two breakers, one for reads and one for writes: queries anyone can send must not be
 * able to refuse the writes of token holders (a slow or failing query opens the read
 * breaker only; a store that is really gone fails both within a few calls). And only
 * outages count: a statement the store rejects as malformed (InfluxDB's 4xx, DuckDB's
 * conversion or binder errors) says nothing about the store's health.
 */
import type { Logger } from 'pino';
import { wrapMetricsStore, type MetricsStore } from './metrics-store.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';
export type BreakerSide = 'reads' | 'writes';

export class BreakerOpenError extends Error {
  override name = 'BreakerOpenError';
}

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
  random?: () => number;
  log?: Logger;
  onStateChange?: (state: BreakerState, side: BreakerSide) => void;
}

export interface BreakerStatus {
  state: BreakerState;
  consecutiveFailures: number;
  lastError: string | null;
  /** Epoch ms of the last state change. */
  since: number;
  /** Epoch ms when the next probe may run (open state only). */
  nextProbeAt: number | null;
}

export interface ResilientMetricsStore extends MetricsStore {
  /** The read breaker (queries, pings): what /health reports as `circuit`. */
  breaker(): BreakerStatus;
  /** Both breakers. */
  breakers(): Record<BreakerSide, BreakerStatus>;
}

/** DuckDB's error classes that mean "this statement is wrong", not "the store is unwell". */
const DUCKDB_STATEMENT_ERROR = /^(Conversion|Invalid Input|Out of Range|Binder|Parser|Constraint|Not implemented) Error/;

/**
 * Whether a failure says the store is unavailable. InfluxDB's client marks a rejected
 * statement `kind: 'query'` (a 4xx or an error inside a 200 answer); DuckDB names its
 * error classes at the start of the message.
 */
export function isOutage(err: unknown): boolean {
  if ((err as { kind?: unknown } | null)?.kind === 'query') return false;
  const message = (err as Error | null)?.message ?? '';
  return !DUCKDB_STATEMENT_ERROR.test(message);
}

export function createResilientMetricsStore(inner: MetricsStore, opts: BreakerOptions = {}): ResilientMetricsStore {
  const reads = createBreaker(inner, 'reads', opts);
  const writes = createBreaker(inner, 'writes', opts);
  // /health pings through the read breaker too: it reports "down" while open and is itself a probe.
  return Object.assign(wrapMetricsStore(inner, (name, fn) => (name === 'write' ? writes.guard(fn) : reads.guard(fn))), {
    breaker: () => reads.status(),
    breakers: () => ({ reads: reads.status(), writes: writes.status() }),
  });
}

function createBreaker(inner: MetricsStore, side: BreakerSide, opts: BreakerOptions) {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const threshold = opts.failureThreshold ?? 3;
  const base = opts.baseBackoffMs ?? 500;
  const cap = opts.maxBackoffMs ?? 30_000;
  let state: BreakerState = 'closed';
  let failures = 0;
  let openings = 0;
  let lastError: string | null = null;
  let since = now();
  let nextProbeAt: number | null = null;
  let probing: Promise<void> | undefined;

  function setState(next: BreakerState) {
    if (next === state) return;
    state = next;
    since = now();
    opts.onStateChange?.(next, side);
    if (next === 'open') {
      const doing = side === 'reads' ? 'answering from last good results' : 'refusing writes with 503 (clients retry)';
      opts.log?.error({ side, failures, lastError, nextProbeAt }, `metrics store (${inner.kind}) unreachable for ${side}: circuit open, ${doing}`);
    }
    if (next === 'closed') opts.log?.info({ side, kind: inner.kind }, `metrics store reachable again for ${side}: circuit closed`);
  }

  function open() {
    openings++;
    // Full jitter: a random wait up to an exponentially growing cap.
    const ceiling = Math.min(cap, base * 2 ** Math.min(openings - 1, 16));
    nextProbeAt = now() + Math.round(ceiling * (0.5 + random() / 2));
    setState('open');
  }

  function succeeded() {
    failures = 0;
    openings = 0;
    nextProbeAt = null;
    setState('closed');
  }

  function failed(err: unknown) {
    failures++;
    lastError = (err as Error).message;
    if (state === 'half_open' || failures >= threshold) open();
  }

  /** While open, one caller at a time probes with a ping once the backoff has passed. */
  async function admit() {
    if (state === 'closed') return;
    if (state === 'open' && nextProbeAt !== null && now() < nextProbeAt) {
      throw new BreakerOpenError(`the metrics store (${inner.kind}) is unreachable (${lastError}); next reconnection attempt in ${nextProbeAt - now()} ms`);
    }
    probing ??= (async () => {
      setState('half_open');
      try {
        await inner.ping();
        succeeded();
      } catch (err) {
        failed(err);
      }
    })().finally(() => (probing = undefined));
    await probing;
    if ((state as BreakerState) !== 'closed') throw new BreakerOpenError(`the metrics store (${inner.kind}) is unreachable (${lastError})`);
  }

  function guard<A extends unknown[], R>(fn: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      await admit();
      try {
        const r = await fn(...args);
        if (failures > 0) succeeded();
        return r;
      } catch (err) {
        // A rejected statement got an answer: the store is there, so it breaks no streak either way.
        if (isOutage(err)) failed(err);
        throw err;
      }
    };
  }

  return {
    guard,
    status: (): BreakerStatus => ({ state, consecutiveFailures: failures, lastError, since, nextProbeAt }),
  };
}
