/**
 * The worker half of bench/replay-split-ab.ts: an engine fed the slices it is sent (a bench-only
 * prototype of moving part of a re-derive's replay off the JS thread; not used by the server).
 */
import { parentPort } from 'node:worker_threads';
import { createDetectorEngine, type DetectorEngine } from '../apps/server/src/detector/engine.ts';
import type { DetectorSettings } from '../apps/server/src/detector/engine.ts';
import type { SeriesBucketColumns } from '../apps/server/src/stores/metrics-store.ts';

type Message =
  | { type: 'start'; settings: DetectorSettings; endMs: number }
  | { type: 'slice'; to: number; cols: SeriesBucketColumns }
  | { type: 'end'; endMs: number };

let engine: DetectorEngine | null = null;
parentPort!.on('message', (m: Message) => {
  if (m.type === 'start') {
    engine = createDetectorEngine(m.settings);
    engine.readFrom(m.endMs);
  } else if (m.type === 'slice') engine!.ingestColumns(m.cols, m.to);
  else parentPort!.postMessage(engine!.evaluate([], m.endMs));
});
