/**
 * Where data of the past is landing (a backfill, a buffered writer's replay, an agent whose clock
 * runs behind): batches whose newest sample is older than the no-data threshold. Silence at the
 * edge of those POPs is the store filling behind now, not a stop, so their no_data findings wait
 * (for windowMs after the last such batch); the pipeline's waits while any POP's does (data is
 * arriving). An announcement that names no POPs (more than the event carries, another producer,
 * InfluxDB's watermark) holds back every finding, as one batch from any POP used to: then an agent
 * whose clock ran 5 minutes behind kept every other POP's stop from being paged for as long as it sent.
 */
import { ALL } from '@edgeworker/schema';

export interface PastLanding {
  /** A batch of data of the past landed at nowMs, from these POPs (undefined: not named). */
  landed(nowMs: number, pops?: readonly string[]): void;
  /** Whether a no_data finding for popCode ('*': the pipeline) waits at nowMs. */
  withholds(popCode: string, nowMs: number): boolean;
}

export function createPastLanding(windowMs: number): PastLanding {
  let unnamedAtMs = -Infinity;
  // One entry per POP at most (bounded by MAX_POPS), overwritten as its batches land.
  const atMs = new Map<string, number>();
  const recent = (at: number, nowMs: number) => nowMs - at < windowMs;
  return {
    landed(nowMs, pops) {
      if (!pops) unnamedAtMs = nowMs;
      else for (const pop of pops) atMs.set(pop, nowMs);
    },
    withholds(popCode, nowMs) {
      if (recent(unnamedAtMs, nowMs)) return true;
      if (popCode !== ALL) return recent(atMs.get(popCode) ?? -Infinity, nowMs);
      for (const at of atMs.values()) if (recent(at, nowMs)) return true;
      return false;
    },
  };
}
