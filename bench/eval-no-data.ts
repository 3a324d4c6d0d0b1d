/**
 * No-data alerts on series whose samples come at random (issue 13's no-data, docs/notes/sparse.md):
 * false alerts per 1000 series-hours, and how long after a real stop the alert opens, through
 * the real engine and evaluateNoData as the detector service calls them (a pass every 10 s).
 *
 *   npx tsx bench/eval-no-data.ts                       # every mean gap, both rules, side by side
 *   EVAL_MEANS=30,60 EVAL_SERIES=400 EVAL_HOURS=8 npx tsx bench/eval-no-data.ts
 *   EVAL_DEBUG=1 ...                                    # also prints each false alert and when
 *   EVAL_USUAL_ONLY=1 ...                               # the usual-silence rule alone
 *   EVAL_SWING=0.5:120 ...                              # traffic swings +-50 % over 120 min (a sine)
 *   EVAL_DROP=0.5 ...                                   # traffic falls to half at once, 2 h in
 *   EVAL_DROP_POPS=0.5 ...                              # ... at that share of the POPs only
 *   EVAL_DROP_KEEP=1 ...                                # ... but their first function keeps its rate
 *     (EVAL_DROP=0 EVAL_DROP_POPS=0.5 EVAL_DROP_KEEP=1 EVAL_DEBUG=1: an outage in which each stopped
 *     POP keeps one series reporting; its four stopped series' alerts print as "false", minutes in)
 *   EVAL_LIFECYCLE=1 ...                                # alerts open and resolve as the service does
 *     (open ones passed back to the rule, resolved once their scope reports again; without it, an
 *     alert counts as closed as soon as the rule stops raising it: the README's figures)
 *
 * Each series' samples arrive as a Poisson process with the mean gap given (EVAL_REGULAR=1: like
 * a clock, every mean gap), 5 functions per POP. One hour before the end, POP P0 (all five) and
 * the first function of P1..P5 stop. "afterMs only" is the rule before (NO_DATA_AFTER and 3 median
 * gaps); "usual silence" passes the engine's usualSilence as the service does.
 */
import { loadConfig } from '../apps/server/src/config.ts';
import { createDetectorEngine, detectorSettings } from '../apps/server/src/detector/engine.ts';
import { evaluateNoData } from '../apps/server/src/detector/no-data.ts';
import type { SeriesBucket } from '../apps/server/src/stores/metrics-store.ts';
import type { Alert } from '@edgeworker/schema';

const STEP = 10_000;
const FNS = 5;
const means = (process.env.EVAL_MEANS ?? '10,20,30,60').split(',').map(Number);
const n = Number(process.env.EVAL_SERIES ?? 200);
const hours = Number(process.env.EVAL_HOURS ?? 4);
const regular = process.env.EVAL_REGULAR === '1';
// Traffic that changes: the samples' rate times 1 + amp sin(2 pi t / period), or times `drop` from 2 h on.
const [swingAmp, swingMin] = (process.env.EVAL_SWING ?? '0:60').split(':').map(Number) as [number, number];
const drop = Number(process.env.EVAL_DROP ?? 1);
// EVAL_DROP_POPS=0.5: only that share of the POPs falls (every other POP when 0.5), the rest keep their rate.
const dropPops = Number(process.env.EVAL_DROP_POPS ?? 1);
// EVAL_DROP_KEEP=n: at the POPs that fall, the first n functions keep their rate.
const dropKeep = Number(process.env.EVAL_DROP_KEEP ?? 0);
const DROP_AFTER_MS = 2 * 3_600_000;
const lifecycle = process.env.EVAL_LIFECYCLE === '1';
const settings = detectorSettings(loadConfig({}).detector);

function run(meanS: number, usual: boolean, seed: number) {
  const engine = createDetectorEngine(settings);
  let state = seed;
  const rnd = () => ((state = (state * 1664525 + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  const t0 = Date.UTC(2026, 0, 1);
  const mean = meanS * 1000;
  // The rate where the gap starts (the gaps are short against the swing's period).
  // POP p falls when the running share of POPs that fall passes a whole number at it (evenly spread).
  const falls = (i: number) => {
    const p = Math.floor(i / FNS);
    return i % FNS >= dropKeep && Math.floor((p + 1) * dropPops) > Math.floor(p * dropPops);
  };
  const rateAt = (i: number, t: number) => (1 + swingAmp * Math.sin((2 * Math.PI * (t - t0)) / (swingMin * 60_000))) * (t - t0 >= DROP_AFTER_MS && falls(i) ? drop : 1);
  const name = (i: number) => ({ pop: `P${Math.floor(i / FNS)}`, fn: `f${i % FNS}` });
  const next = Array.from({ length: n }, () => t0 + rnd() * mean);
  const stopAt = t0 + (hours - 1) * 3_600_000;
  const stops = (i: number) => i < FNS || (i % FNS === 0 && i <= 5 * FNS);
  const stoppedScope = (k: string) => /^P0\//.test(k) || /^P[1-5]\/f0$/.test(k);
  let open = new Set<string>();
  let falseAlerts = 0;
  // EVAL_LIFECYCLE: the unresolved alerts, by scope (their id).
  const openAlerts = new Map<string, Alert>();
  let popAfterStop: number | null = null;
  const seriesAfterStop: number[] = [];
  for (let end = t0 + STEP; end < t0 + hours * 3_600_000; end += STEP) {
    const buckets: SeriesBucket[] = [];
    for (let i = 0; i < n; i++) {
      const counts = new Map<number, number>();
      for (; next[i]! < end; next[i]! += regular ? mean : -(mean / rateAt(i, next[i]!)) * Math.log(rnd())) {
        if (stops(i) && next[i]! >= stopAt) continue;
        const b = Math.floor(next[i]! / STEP) * STEP;
        counts.set(b, (counts.get(b) ?? 0) + 1);
      }
      const { pop, fn } = name(i);
      for (const [b, c] of counts) buckets.push({ popCode: pop, functionName: fn, startMs: b, samples: c, mean: 100, p50: 100 });
    }
    buckets.sort((a, b) => a.startMs - b.startMs);
    engine.ingest(buckets, end);
    const unresolved = lifecycle ? [...openAlerts.values()] : [];
    const ev = evaluateNoData(engine.lastSeen(), unresolved, end, { afterMs: settings.noDataAfterMs, stepMs: STEP, minBuckets: 6 }, usual ? (x) => engine.usualSilence(x.popCode, x.functionName) : undefined);
    if (lifecycle) {
      for (const id of ev.resolve) openAlerts.delete(id);
      for (const f of ev.raise) {
        const at = new Date(end).toISOString();
        openAlerts.set(`${f.popCode}/${f.functionName}`, { id: `${f.popCode}/${f.functionName}`, type: 'no_data', popCode: f.popCode, functionName: f.functionName, severity: f.severity, status: 'open', baselineMs: 0, currentMs: 0, changePct: 0, createdAt: at, updatedAt: at, notifications: [], lastSeenAt: new Date(f.lastSeenMs).toISOString() });
      }
    }
    const now = new Set(ev.raise.map((f) => `${f.popCode}/${f.functionName}`));
    for (const k of now) {
      if (open.has(k)) continue;
      if (end >= stopAt && stoppedScope(k)) {
        if (k === 'P0/*') popAfterStop ??= (end - stopAt) / 1000;
        else if (/^P[1-5]\/f0$/.test(k)) seriesAfterStop.push((end - stopAt) / 1000);
      } else {
        falseAlerts++;
        if (process.env.EVAL_DEBUG) console.log('false alert', usual ? 'usual silence' : 'afterMs only', k, `${(end - t0) / 60_000} min in`);
      }
    }
    open = lifecycle ? new Set(openAlerts.keys()) : now;
  }
  const quietSeriesHours = n * hours - 10;
  seriesAfterStop.sort((a, b) => a - b);
  return { falsePer1000: (falseAlerts / quietSeriesHours) * 1000, falseAlerts, popAfterStop, seriesAfterStop };
}

const traffic = `${swingAmp > 0 ? `, traffic +-${swingAmp * 100} % over ${swingMin} min` : ''}${drop !== 1 ? `, traffic x ${drop} from ${DROP_AFTER_MS / 3_600_000} h on${dropPops < 1 ? ` at ${dropPops * 100} % of the POPs` : ''}${dropKeep > 0 ? ` but their first ${dropKeep} function(s)` : ''}` : ''}`;
console.log(`${n} series (${FNS} per POP) x ${hours} h per row, ${regular ? 'samples like a clock' : 'samples at random (Poisson)'}${traffic}; false: no_data alerts on series that did not stop; after stop: seconds from the stop to the alert of POP P0 (all 5 stopped) and of the 5 single stopped series (a series alerted before it stopped is not counted)\n`);
console.log('| mean gap | rule | false per 1000 series-h (count) | a whole POP stops | a single series stops |');
console.log('|---|---|---|---|---|');
for (const m of means) {
  for (const usual of process.env.EVAL_USUAL_ONLY === '1' ? [true] : [false, true]) {
    const r = run(m, usual, m);
    console.log(`| ${m} s | ${usual ? 'usual silence' : 'afterMs only'} | ${r.falsePer1000.toFixed(2)} (${r.falseAlerts}) | ${r.popAfterStop ?? '–'} s | ${r.seriesAfterStop.join(', ')} s |`);
  }
}
