/**
 * What late data owes the detector, and when it is paid: the POPs whose series must be re-derived
 * from the store (or all of them), at most one re-derive a minute, within a budget.
 *
 * Samples landing behind what the detector has read (a backfill, an agent replaying its buffer)
 * make a later pass re-derive the series of the POPs they touched, so the baselines hold them.
 * Without a limit, late data that keeps coming (a region's agents replaying after a partition, a
 * client that keeps sending old timestamps for many POPs) would keep the detector re-deriving, on
 * the leader and on every warm follower: a full re-derive is 1.2-1.8 s at 2,115 series, 6.6-7.8 s
 * at 10,000 and 10-19 s on InfluxDB. So re-derives draw on a budget counted in full re-derives:
 * a re-derive of some POPs costs their share of the POPs held (at least CHARGE_FLOOR), a full one
 * costs 1; the budget holds at most BUDGET_BURST and refills one per BUDGET_REFILL_MS. A re-derive
 * the budget cannot pay waits (its POPs stay owed, and more join them) while the detector evaluates
 * on what it has; the budget only ever delays a re-derive, never drops one.
 * Figures: docs/notes/late-flood.md.
 */

/** At most one late-data re-derive a minute: a long replay re-derives once a minute while it lasts, not once a batch. */
export const LATE_REDERIVE_EVERY_MS = 60_000;
/**
 * Owed POPs up to this many are always re-derived POP by POP (their series only); past it, only
 * while they are at most PARTIAL_MAX_SHARE of the POPs the engine holds.
 */
export const PARTIAL_MIN_POPS = 64;
/**
 * Past this share of the POPs held, a full re-derive costs less than re-deriving those POPs: the
 * POP-filtered read scans every series' rows and a sub-engine's state is copied in, so N POPs cost
 * 1.0-1.6x their share of a full re-derive (measured at 2,115 series, 423 POPs: 64 POPs 0.18-0.24,
 * 128 0.44, 256 0.58-0.90, all 423 0.99-1.46 of a full one; docs/notes/late-flood.md).
 */
export const PARTIAL_MAX_SHARE = 0.6;
/**
 * The budget refills one full re-derive's worth every 8 minutes: a flood of late data that names no
 * POPs (or too many) then costs one full re-derive per 8 minutes once the burst is spent, ~0.3 % of
 * a core at 2,115 series, ~1.5 % at 10,000, ~4 % on InfluxDB (once a minute before: 2.5 / 12 / 32 %).
 * 8 minutes stay well inside the 30 minutes a re-derive steps (replayMs): samples deferred that long
 * are still stepped by the CUSUMs, not only put into the baselines.
 */
export const BUDGET_REFILL_MS = 8 * 60_000;
/**
 * Most POPs kept owed one by one (MAX_POPS' default): the set only grows between two re-derives, and
 * whether it is worth re-deriving POP by POP is judged when it is paid (take), against the POPs held then.
 */
export const OWED_POPS_MAX = 10_000;
/** Two full re-derives back to back (a minute apart): a one-off backfill and its tail cost what they did before. */
export const BUDGET_BURST = 2;
/** The least a re-derive of a few POPs is charged: the filtered read scans every series' rows (one POP: 2-5 % of a full re-derive). */
export const CHARGE_FLOOR = 0.03;

export type Owed = 'all' | ReadonlySet<string>;

/** What the late-data re-derive stands at, for /health, the metrics and the pass's result. */
export interface LateRederiveState {
  /** What is owed: 'all', a number of POPs, or null (nothing). */
  owed: 'all' | number | null;
  /** Full re-derives' worth the budget holds now (0 to BUDGET_BURST). */
  budget: number;
  /** When the budget lets the owed re-derive run, while it defers it (null: it does not). */
  deferredUntilMs: number | null;
}

export type Take =
  /** Nothing owed, or the minute since the last re-derive has not passed. */
  | { kind: 'none' }
  /** Re-derive this now (the budget was charged). */
  | { kind: 'due'; due: Owed; deferredForMs: number }
  /** Owed, but the budget cannot pay it before `untilMs`; `first` on the pass that starts the wait. */
  | { kind: 'deferred'; owed: Owed; untilMs: number; first: boolean };

export interface LateRederives {
  /** Adds late data's POPs (undefined: unknown POPs, so 'all'). */
  owe(pops: Iterable<string> | undefined): void;
  /** What is owed now (null: nothing). */
  owed(): Owed | null;
  /** At a pass starting at nowMs: what to re-derive now, charged to the budget, or why nothing. */
  take(nowMs: number): Take;
  /** A fresh engine re-derives everything anyway: what was owed is paid, free of charge. */
  paidByFresh(): void;
  state(nowMs: number): LateRederiveState;
}

/**
 * `popsHeld`: how many POPs the engine holds series of (a share's denominator), asked at take() and
 * state() only: not while a pass may be rebuilding the engine.
 */
export function createLateRederives(popsHeld: () => number): LateRederives {
  let owed: Set<string> | 'all' | null = null;
  let lastMs = -Infinity;
  // The budget at budgetAtMs (it refills with time, up to BUDGET_BURST; full until first charged).
  let budget = BUDGET_BURST;
  let budgetAtMs: number | null = null;
  // When the wait began, while the budget defers what is owed (the warning is logged once per wait).
  let waitingSinceMs: number | null = null;

  const budgetAt = (nowMs: number) => (budgetAtMs === null ? BUDGET_BURST : Math.min(BUDGET_BURST, budget + Math.max(0, nowMs - budgetAtMs) / BUDGET_REFILL_MS));
  const tooMany = (n: number) => n > PARTIAL_MIN_POPS && n > PARTIAL_MAX_SHARE * popsHeld();
  // When the budget, holding `have` now, can pay a charge of c.
  const payableAt = (nowMs: number, have: number, c: number) => nowMs + Math.ceil((c - have) * BUDGET_REFILL_MS);
  const charge = (o: Owed) => (o === 'all' ? 1 : Math.min(1, Math.max(CHARGE_FLOOR, o.size / Math.max(1, popsHeld()))));

  return {
    owe(pops) {
      if (!pops || owed === 'all') {
        owed = 'all';
        return;
      }
      owed ??= new Set();
      for (const p of pops) owed.add(p);
      if (owed.size > OWED_POPS_MAX) owed = 'all';
    },
    owed: () => owed,
    take(nowMs) {
      if (!owed || nowMs - lastMs < LATE_REDERIVE_EVERY_MS) return { kind: 'none' };
      // Whether that many are worth re-deriving one by one is judged now, against the POPs held now.
      if (owed !== 'all' && tooMany(owed.size)) owed = 'all';
      const c = charge(owed);
      const have = budgetAt(nowMs);
      if (have < c) {
        const first = waitingSinceMs === null;
        waitingSinceMs ??= nowMs;
        return { kind: 'deferred', owed, untilMs: payableAt(nowMs, have, c), first };
      }
      budget = have - c;
      budgetAtMs = nowMs;
      lastMs = nowMs;
      const due = owed;
      const deferredForMs = waitingSinceMs === null ? 0 : nowMs - waitingSinceMs;
      owed = null;
      waitingSinceMs = null;
      return { kind: 'due', due, deferredForMs };
    },
    paidByFresh() {
      owed = null;
      waitingSinceMs = null;
    },
    state(nowMs) {
      const b = budgetAt(nowMs);
      const c = owed ? charge(owed) : 0;
      return {
        owed: owed === null ? null : owed === 'all' ? 'all' : owed.size,
        budget: Math.round(b * 1000) / 1000,
        deferredUntilMs: waitingSinceMs !== null && owed && b < c ? payableAt(nowMs, b, c) : null,
      };
    },
  };
}
