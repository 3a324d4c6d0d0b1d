/**
 * Main's frozen engine (./engine.ts, 2e71044) as today's DetectorEngine, for the service's
 * `engine` option. It already has the stepwise replay and the snapshot's export/import, so it is
 * used as it is; the interface is today's, so a change of it shows here as a type error.
 */
import type { DetectorEngine, DetectorSettings } from '../../apps/server/src/detector/engine.ts';
import { createDetectorEngine } from './engine.ts';

export function mainEngine(settings: DetectorSettings): DetectorEngine {
  return createDetectorEngine(settings);
}
