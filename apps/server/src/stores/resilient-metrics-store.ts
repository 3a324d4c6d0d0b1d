/**
 * Wraps any MetricsStore with a circuit breaker, so an unreachable store costs a
 * fast, clear failure instead of a pile of requests each waiting for its timeout.
 *
 * closed ──(N consecutive failures)──▶ open ──(backoff elapsed)──▶ half-open
 *    ▲                                   ▲                            │ one probe (ping)
 *    └───────────── probe succeeds ──────┼──────── probe fails ◀──────┘ (backoff doubles)
 *
 * While open, calls fail at once with BreakerOpenError (the cached queries then answer
 * last-good results, the generator's buffered writer keeps its samples). Probes use
 * exponential backoff with full jitter; recovery needs no restart.
 */
import type { Logger } from 'pino';
import { wrapMetricsStore, type MetricsStore } from './metrics-store.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

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
  onStateChange?: (state: BreakerState) => void;
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
  breaker(): BreakerStatus;
}

export function createResilientMetricsStore(inner: MetricsStore, opts: BreakerOptions = {}): ResilientMetricsStore {
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
    opts.onStateChange?.(next);
    if (next === 'open') opts.log?.error({ failures, lastError, nextProbeAt }, `metrics store (${inner.kind}) unreachable: circuit open, answering from last good results`);
    if (next === 'closed') opts.log?.info({ kind: inner.kind }, 'metrics store reachable again: circuit closed');
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
        failed(err);
        throw err;
      }
    };
  }

  // /health pings through the breaker too: it reports "down" while open and is itself a probe.
  return Object.assign(wrapMetricsStore(inner, (_name, fn) => guard(fn)), {
    breaker: (): BreakerStatus => ({ state, consecutiveFailures: failures, lastError, since, nextProbeAt }),
  });
}
