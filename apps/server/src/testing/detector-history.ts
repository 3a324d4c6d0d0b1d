/**
 * The history the detector's service-level tests share (detector-snapshot.test.ts,
 * standby.services.test.ts): twelve series at four POPs, three shifts placed around T0 (one open
 * at T0 and resolving after it, one building up across it, one after it), and a real DuckDB
 * metrics file holding 4.5 hours of them, up to T0 + 40 min.
 */
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { FUNCTIONS, findPop } from '@edgeworker/pops';
import { createLatencyModel, type Injection } from '@edgeworker/generator';
import type { ColdStartSample } from '@edgeworker/schema';
import type { PassResult } from '../detector/detector-service.ts';
import { detectorSettings } from '../detector/engine.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';
import { createDuckDbMetricsStore } from '../stores/duckdb/duckdb-metrics-store.ts';

export const MIN = 60_000;
export const STEP = 10_000;
export const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
export const settings = detectorSettings({ recentMs: 10 * MIN, baselineMs: 60 * MIN, minChange: 0.1, resolveAfterMs: 5 * MIN });
export const SERIES = ['FRA', 'AMS', 'LHR', 'CDG'].flatMap((code) => FUNCTIONS.slice(0, 3).map((fn) => ({ pop: findPop(code)!, fn })));
const inj = (pop: string, fn: number, factor: number, startMs: number, durationMs: number): Injection => ({ pops: [pop], functions: [FUNCTIONS[fn]!.name], factor, startMs, durationMs });
export const INJECTIONS = [inj('LHR', 2, 3, T0 - 30 * MIN, 22 * MIN), inj('AMS', 1, 1.7, T0 - 3 * MIN, 30 * MIN), inj('FRA', 0, 2.2, T0 + 12 * MIN, 20 * MIN)];

/**
 * A 2x regression for 20 minutes from atMs on the first function of `pop` and on the second of
 * FRA: the POP a test treats apart (late, in parts) and an ordinary one, to compare the two.
 */
export function twoShifts(pop: string, atMs: number): Injection[] {
  return [
    { pops: [pop], functions: [FUNCTIONS[0]!.name], factor: 2, startMs: atMs, durationMs: 20 * MIN },
    { pops: ['FRA'], functions: [FUNCTIONS[1]!.name], factor: 2, startMs: atMs, durationMs: 20 * MIN },
  ];
}

/** One sample per series per STEP over [fromMs, toMs), from the generator's model. */
export function samples(fromMs: number, toMs: number, injections = INJECTIONS, seed = 5): ColdStartSample[] {
  const model = createLatencyModel({ seed, injections, spikeProbability: 0.002 });
  const out: ColdStartSample[] = [];
  for (let t = fromMs; t < toMs; t += STEP) {
    for (const { pop, fn } of SERIES) {
      out.push({ timeNs: BigInt(t) * 1_000_000n, popCode: pop.code, city: pop.city, country: pop.country, tier: pop.tier, functionName: fn.name, coldStartTimeMs: model.sample(pop, fn, t), latitude: pop.lat, longitude: pop.lon });
    }
  }
  return out;
}

/** A real DuckDB metrics file in dir with 4.5 hours of the series, up to T0 + 40 min; closed after the test. */
export async function historyFile(t: TestContext, dir: string): Promise<MetricsStore> {
  const store = await createDuckDbMetricsStore({ path: join(dir, 'metrics.duckdb'), now: () => T0 });
  t.after(() => store.close().catch(() => undefined));
  await store.write(samples(T0 - 230 * MIN, T0 + 40 * MIN));
  return store;
}

/** What a pass did, comparable across processes and replicas (alert ids are random). */
export const outcome = (r: PassResult) => ({
  evaluated: r.evaluated,
  created: r.created.map((a) => [a.type, a.popCode, a.functionName, a.severity, a.baselineMs, a.currentMs, a.changePct]),
  resolved: r.resolved.map((a) => [a.type, a.popCode, a.functionName]).sort(),
  refreshed: r.refreshed,
  skipped: r.skipped,
});
