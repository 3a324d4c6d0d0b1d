/**
 * The worker thread's half of a re-derive split between two threads (rederive-split.ts): an engine
 * of its own, fed the slices' buckets of the functions it was given, handed back at the end with
 * its typed arrays transferred. Nothing here reads a store or a clock: the JS thread reads and
 * sends; this only replays.
 */
import { parentPort } from 'node:worker_threads';
import { createDetectorEngine, handoverBuffers, type DetectorEngine, type DetectorSettings, type EngineHandover } from './engine.ts';
import type { SeriesBucketColumns } from '../stores/metrics-store.ts';

/** What the JS thread sends, in this order: start, any slices, end. */
export type ToRederiveWorker =
  | { type: 'start'; settings: DetectorSettings; endMs: number; seriesPerMessage: number }
  | { type: 'slice'; columns: SeriesBucketColumns; endMs: number }
  | { type: 'end' };

/**
 * What it sends back after end: its series in groups, then the rest of its handover. Each message
 * is decoded on the JS thread as an event of its own, so a group, not all of them at once, holds
 * its event loop.
 */
export type FromRederiveWorker =
  | { type: 'series'; series: EngineHandover['series'] }
  | ({ type: 'done' } & Omit<EngineHandover, 'series'>)
  | { type: 'empty' };

if (!parentPort) throw new Error('rederive-worker.ts runs as a worker thread (rederive-split.ts starts it)');
const port = parentPort;
let engine: DetectorEngine | null = null;
let seriesPerMessage = 256;
port.on('message', (m: ToRederiveWorker) => {
  // An exception here ends the thread with an 'error' event: the JS thread then re-derives alone.
  if (m.type === 'start') {
    engine = createDetectorEngine(m.settings);
    seriesPerMessage = m.seriesPerMessage;
    engine.readFrom(m.endMs);
  } else if (m.type === 'slice') {
    engine!.ingestColumns(m.columns, m.endMs);
  } else {
    const handover = engine!.handOver();
    engine = null;
    if (!handover) {
      port.postMessage({ type: 'empty' } satisfies FromRederiveWorker);
      return;
    }
    const { series, ...rest } = handover;
    for (let i = 0; i < series.length; i += seriesPerMessage) {
      const group = { ...rest, series: series.slice(i, i + seriesPerMessage) };
      port.postMessage({ type: 'series', series: group.series } satisfies FromRederiveWorker, handoverBuffers(group));
    }
    port.postMessage({ type: 'done', ...rest } satisfies FromRederiveWorker);
  }
});
