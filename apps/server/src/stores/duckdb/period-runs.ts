/**
 * The time ranges a load of rollup periods reads: one per run of nearby periods, not one
 * from the first period asked to the last.
 *
 * Why: a window's rolled-up minute edges lie a week apart (the minutes after its start and
 * before its end); one range from the first to the last scanned every row of rollup_1m in
 * between (a week: ~100M rows at 10,000 series) to keep ~1% of them. Seen as the POP
 * detail's first 7 d request at 1.4 s when its summary asked both edges at once
 * (docs/notes/week-3.md). Each run is its own SELECT (joined by UNION ALL) so its time range
 * stays a filter DuckDB prunes row groups with.
 */

/** Periods this close (in periods) share a run: dirty hours or minutes punctuating a window do not split it into many. */
const MAX_GAP = 16;

/** Sorted runs [first, last] (inclusive) of the periods, gaps of at most MAX_GAP periods inside a run. */
export function runsOf(periods: readonly number[]): Array<[number, number]> {
  const sorted = [...periods].sort((a, b) => a - b);
  const runs: Array<[number, number]> = [];
  for (const p of sorted) {
    const last = runs[runs.length - 1];
    if (last && p - last[1] <= MAX_GAP) last[1] = Math.max(last[1], p);
    else runs.push([p, p]);
  }
  return runs;
}

/** One SELECT per run of the periods (each `len` ns long), from `select(fromNs, toNs)`, joined by UNION ALL. */
export function selectRuns(periods: readonly number[], len: bigint, select: (fromNs: bigint, toNs: bigint) => string): string {
  return runsOf(periods).map(([a, b]) => select(BigInt(a) * len, (BigInt(b) + 1n) * len)).join('\n UNION ALL ');
}
