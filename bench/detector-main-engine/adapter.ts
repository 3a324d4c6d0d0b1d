/**
 * Main's frozen engine (./engine.ts) as today's DetectorEngine, for the service's `engine`
 * option: it has no stepwise ingest, so its "steps" are one: the whole slice in one block, as
 * main's service replayed it.
 */
import type { DetectorEngine, DetectorSettings } from '../../apps/server/src/detector/engine.ts';
import type { SeriesBucketColumns } from '../../apps/server/src/stores/metrics-store.ts';
import { createDetectorEngine } from './engine.ts';

export function mainEngine(settings: DetectorSettings): DetectorEngine {
  const e = createDetectorEngine(settings);
  return {
    ...e,
    settings,
    *ingestColumnsStepwise(c: SeriesBucketColumns, endMs: number) {
      e.ingestColumns(c, endMs);
    },
    // It predates the snapshot: never saved, never restored.
    exportState: () => null,
    importState() {
      throw new Error("main's frozen engine has no snapshot");
    },
    *importStateStepwise() {
      throw new Error("main's frozen engine has no snapshot");
    },
  };
}
