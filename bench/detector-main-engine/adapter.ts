/**
 * Main's frozen engine (./engine.ts, 2e71044) as today's DetectorEngine, for the service's
 * `engine` option. It already has the stepwise replay and the snapshot's export/import, so it is
 * used as it is; the interface is today's, so a change of it shows here as a type error.
 * replaceSeries (late data of a few POPs, after it was frozen) is built from its export and
 * import: the whole state round-trips, which is slower than today's, but the bench never times it.
 * It cannot share a re-derive with a worker thread (handOver, takeOver): a service running it is
 * given `rederiveWorker: false` (were it not, the split fails and the service re-derives alone).
 */
import { SEEN_BUCKETS, type DetectorEngine, type DetectorSettings } from '../../apps/server/src/detector/engine.ts';
import { createDetectorEngine, type SeriesStateExport } from './engine.ts';

export function mainEngine(settings: DetectorSettings): DetectorEngine {
  const engine = createDetectorEngine(settings);
  return {
    ...engine,
    // Today's settings (the frozen engine reads the fields it knows); it has no wander estimate.
    settings,
    functionWander: () => ({ level: 0, burst: 1 }),
    wanderAt: () => new Map(),
    handOver: () => null,
    // It has no early look (it judged closed buckets only).
    peek: () => [],
    // It reads on from where it stopped only (what a slow agent's samples land after their pass is lost to it, as it was).
    behind: () => null,
    // Nor does it hold back buckets that land in parts, or know a series' usual silence (afterMs and 3 cadences alone, as then).
    usualSilence: () => 0,
    *lastSeen() {
      for (const x of engine.lastSeen()) yield { ...x, firstMs: -Infinity };
    },
    evaluate: (unresolved, endMs) => ({ ...engine.evaluate(unresolved, endMs), heldBack: 0 }),
    // So its export has learnt nothing of parts (today's export carries what a series learnt), nor
    // kept sample counts (each bucket as one sample: judged as it judged them).
    exportState() {
      const st = engine.exportState();
      return st && { ...st, series: st.series.map((e) => ({ ...e, k: new Uint8Array(e.t.length).fill(1), base: e.base && { ...e.base, countVar: 1 }, runs: e.runs.map((r) => ({ ...r, base: r.base && { ...r.base, countVar: 1 } })), parts: { seen: new Float64Array(2 * SEEN_BUCKETS).fill(NaN), partsUntil: -Infinity, holdSteps: 1 } })) };
    },
    takeOver() {
      throw new Error("main's frozen engine does not take over another engine's series");
    },
    replaceSeries(state, pops) {
      const mine = engine.exportState();
      if (!mine) return;
      const key = (e: SeriesStateExport) => `${e.popCode}\u0000${e.functionName}`;
      const incoming = new Map<string, SeriesStateExport>();
      for (const e of state.series) if (pops.has(e.popCode)) incoming.set(key(e), e);
      const series: SeriesStateExport[] = [];
      for (const e of mine.series) {
        if (!pops.has(e.popCode)) series.push(e);
        else if (incoming.has(key(e))) {
          series.push(incoming.get(key(e))!);
          incoming.delete(key(e));
        }
      }
      series.push(...incoming.values());
      engine.importState({ fedUntil: mine.fedUntil, stepFrom: mine.stepFrom, series });
    },
  };
}
