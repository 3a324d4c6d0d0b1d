/**
 * When the map calls a POP `no_data`: silent for NO_DATA_AFTER, or, for a POP whose samples come
 * sparsely, for as long as it is not usually silent.
 *
 * Why: cold starts are events, so a quiet POP's samples come at random, minutes apart. One that
 * reports once a minute on average goes 3 minutes without a sample about once an hour, and the
 * map turned it grey then, though nothing had stopped (and the detector, which knows each series'
 * usual silence, rightly raised no alert: engine.usualSilence). Here a POP's usual silence comes
 * from its own last hour: 14 times its mean gap (the detector's e-folds: random arrivals leave a
 * gap that long about once in a million), or its newest 32 samples' when they come slower (traffic
 * that falls), never less than NO_DATA_AFTER (a POP that reports like a clock is judged as
 * before), never more than the hour looked at.
 */

/** How far back a POP's rate is read. */
export const SILENCE_LOOKBACK_MS = 60 * 60_000;
/** The buckets its samples are counted in (the newest sample is known to within one). */
export const SILENCE_STEP_MS = 60_000;
/** Mean gaps a POP may go without a sample (as engine.ts's SILENCE_EFOLDS: e^-14 ~ 8e-7). */
export const SILENCE_MEAN_GAPS = 14;
/**
 * More POPs than this share (and than MIN_OUTAGE_POPS) silent at once is an outage, not sparse
 * traffic: they are no_data without reading their hour (one read of every series' hour, at the
 * moment the whole pipeline stops, would cost the most when it helps the least).
 */
export const OUTAGE_SHARE = 0.25;
export const MIN_OUTAGE_POPS = 16;

/**
 * How many of a POP's newest samples also say its rate (as engine.ts's RECENT_GAPS): traffic that
 * falls shows there long before it moves the hour's mean, and meanwhile the POP's ordinary gaps
 * would outlast a limit set by the faster rate before.
 */
export const RECENT_SAMPLES = 32;

/**
 * A POP's samples over the lookback: how many, its oldest and newest bucket's start, and of its
 * newest buckets that hold RECENT_SAMPLES samples (all of them, with fewer) how many and the oldest's start.
 */
export interface PopSeen {
  samples: number;
  firstMs: number;
  lastMs: number;
  recentSamples: number;
  recentFirstMs: number;
}

/** Each POP's PopSeen from its buckets over the lookback (any order; empty buckets are skipped). */
export function popsSeen(buckets: Iterable<{ popCode: string; startMs: number; samples: number }>): Map<string, PopSeen> {
  const byPop = new Map<string, Array<{ startMs: number; samples: number }>>();
  for (const b of buckets) {
    if (!(b.samples > 0)) continue;
    let list = byPop.get(b.popCode);
    if (!list) byPop.set(b.popCode, (list = []));
    list.push(b);
  }
  const out = new Map<string, PopSeen>();
  for (const [pop, list] of byPop) {
    list.sort((a, b) => b.startMs - a.startMs);
    let samples = 0;
    let recentSamples = 0;
    let recentFirstMs = list[0]!.startMs;
    for (const b of list) {
      if (samples < RECENT_SAMPLES) {
        recentSamples += b.samples;
        recentFirstMs = b.startMs;
      }
      samples += b.samples;
    }
    out.set(pop, { samples, firstMs: list[list.length - 1]!.startMs, lastMs: list[0]!.startMs, recentSamples, recentFirstMs });
  }
  return out;
}

/** How long this POP may go without a sample before it is no_data (afterMs for one with too few samples to say). */
export function popSilenceLimit(afterMs: number, seen: PopSeen | undefined): number {
  if (!seen || seen.samples < 3) return afterMs;
  const hourGap = (seen.lastMs - seen.firstMs) / (seen.samples - 1);
  // Its newest samples' mean gap when they are most of a full set (as engine.ts: half of them).
  const recentGap = seen.recentSamples >= RECENT_SAMPLES / 2 ? (seen.lastMs - seen.recentFirstMs) / (seen.recentSamples - 1) : 0;
  return Math.min(SILENCE_LOOKBACK_MS, Math.max(afterMs, SILENCE_MEAN_GAPS * Math.max(hourGap, recentGap)));
}

/**
 * Whether a POP quiet for afterMs (the caller read that much), last seen as `seen`, is silent at
 * nowMs: at once when afterMs is its limit (exactly as before: its 1-minute buckets would let it
 * off up to a minute late), else once no bucket of it overlaps its own limit.
 */
export function silentAt(nowMs: number, afterMs: number, seen: PopSeen | undefined): boolean {
  const limit = popSilenceLimit(afterMs, seen);
  return limit <= afterMs || seen!.lastMs + SILENCE_STEP_MS <= nowMs - limit;
}
