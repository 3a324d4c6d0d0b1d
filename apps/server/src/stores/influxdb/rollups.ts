/**
 * Wiring for the InfluxDB rollups, so the composition root stays one line: the
 * store's planner options and the keeper, both from the same configuration.
 */
import type { Logger } from 'pino';
import type { InfluxConfig } from '../../config.ts';
import type { Leadership } from '../../cluster/leadership.ts';
import { createInfluxClient } from './influx-client.ts';
import { createRollupKeeper, type LateData, type RollupKeeper } from './rollup-keeper.ts';

/** The keeper's reads scan up to an hour of raw samples: more than an API answer may take. */
const KEEPER_TIMEOUT_MS = 120_000;

export function influxRollupReads(influx: InfluxConfig) {
  return influx.rollups ? { rawMaxMs: influx.rollups.rawMaxMs } : undefined;
}

/**
 * The keeper for INFLUX_ROLLUPS=on, started by the caller; it works only while this replica leads.
 * `late`: where late data it finds goes (the detector's span to check often, and the listener).
 */
export function createInfluxRollupKeeper(
  influx: InfluxConfig,
  leadership: Leadership,
  log: Logger,
  now?: () => number,
  late?: { hotSpanMs: number; onLateData: (l: LateData) => void },
): RollupKeeper | undefined {
  if (!influx.rollups) return undefined;
  const client = createInfluxClient({ ...influx, timeoutMs: Math.max(influx.timeoutMs, KEEPER_TIMEOUT_MS) });
  const { intervalMs, lookbackMs, retention1mMs, retention1hMs } = influx.rollups;
  return createRollupKeeper({ client, leadership, log, now, intervalMs, lookbackMs, db: influx.db, retention: { retention1mMs, retention1hMs }, ...late });
}
