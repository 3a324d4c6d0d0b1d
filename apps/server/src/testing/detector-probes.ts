/**
 * What the detector's service-level tests watch a detector by: the bucket reads it makes of the
 * metrics store, and the messages it logs (what it decided: restored, re-derived, dropped).
 */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { wrapMetricsStore, type MetricsStore } from '../stores/metrics-store.ts';

/**
 * The store as the detector sees it, with its bucket reads (seriesBuckets, seriesBucketColumns)
 * recorded as [fromMs, toMs) ranges; `beforeRead` runs before each one is answered.
 */
export function recordingReads(store: MetricsStore, beforeRead?: () => Promise<void>): { store: MetricsStore; reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  const wrapped = wrapMetricsStore(store, (name, fn) => async (...args) => {
    if (name === 'seriesBuckets' || name === 'seriesBucketColumns') {
      const range = args[0] as { fromNs: bigint; toNs: bigint };
      reads.push([Number(range.fromNs / 1_000_000n), Number(range.toNs / 1_000_000n)]);
      await beforeRead?.();
    }
    return fn(...args);
  });
  return { store: wrapped, reads };
}

/** A logger at info whose messages are kept, in order. */
export function capturedLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(chunk, _e, done) {
    lines.push(String(JSON.parse(String(chunk)).msg));
    done();
  } }));
  return { log, lines };
}
