/**
 * Agents such as Telegraf send one batch with every input's measurements (cpu, mem, …).
 * InfluxDB stores them all; we keep only the cold-start measurement and skip the others,
 * counted per measurement, instead of refusing the batch (which would lose our points too).
 * Only the measurement name decides: a cold-start point that is bad still fails the body.
 */
import type { ParsedPoint } from '@edgeworker/line-protocol';
import { MEASUREMENT } from '@edgeworker/schema';

export interface ForeignSplit {
  ours: ParsedPoint[];
  /** Skipped points by measurement name. */
  skipped: Map<string, number>;
  skippedTotal: number;
}

export function splitForeignMeasurements(points: ParsedPoint[]): ForeignSplit {
  const ours: ParsedPoint[] = [];
  const skipped = new Map<string, number>();
  for (const p of points) {
    if (p.measurement === MEASUREMENT) ours.push(p);
    else skipped.set(p.measurement, (skipped.get(p.measurement) ?? 0) + 1);
  }
  return { ours, skipped, skippedTotal: points.length - ours.length };
}
