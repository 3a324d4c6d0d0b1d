/**
 * The detector's shell around the engine (engine.ts): one pass reads the buckets of
 * every (POP, function) series that closed since the previous pass, in one store query
 * (a fresh engine reads the whole history span once, stepping its newest 30 minutes: see
 * engine.ts replayMs), evaluates, and
 * applies the outcome through the AlertService (which stores, notifies and publishes
 * to the dashboards). The pass runs inside leadership, so with several replicas only
 * the leader writes, and it checks it still leads before committing anything.
 *
 * Standby (DETECTOR_STANDBY): a replica that is not the leader still runs its scheduled passes
 * as a follower (warm, the default): it reads the buckets closed since its last read and
 * evaluates exactly as the leader does, and drops what it found (it writes no alert, notifies
 * nothing, saves no snapshot). Its engine is then where the leader's is, and its first pass as a
 * new leader is an ordinary incremental one instead of a re-derive of the whole span. It does not
 * lead with state that could be stale: a follower that cannot reach the lock (cut off from Redis,
 * so from the bus that announces late data) drops its state, and one whose last completed pass
 * is older than the replay span re-derives (see standbyGapMs). Cold: a follower drops its engine
 * state every pass and re-derives when it leads (the behaviour before warm standby).
 *
 * Passes are serialised: a pass asked for (HTTP) while another runs (schedule) waits
 * for it and then runs on the data present by then.
 *
 * Snapshot (engine-snapshot.ts): at a graceful stop the leader saves its engine's state
 * (`saveSnapshot`, under its fence); a new process takes the file at start and its first pass
 * as leader starts from it, reading on from its fedUntil, when it is recent (snapshotMaxAgeMs)
 * and no late data landed behind it since; otherwise it re-derives as before. It also saves one
 * every DETECTOR_SNAPSHOT_EVERY (snapshot.everyMs) after a pass, so a crashed leader restarts
 * from a state at most that old. A snapshot on disk must never lack data the store holds: late
 * data that makes the engine re-derive deletes the file at once (on embedded DuckDB nothing
 * would tell the next process: the data is already in the store), and no snapshot is written
 * while such a re-derive is pending.
 *
 * Late data of a few POPs (`data_landed` naming them: an agent replaying after an outage) makes
 * the next pass re-derive those POPs' series only: the engine is fed as usual, then a fresh engine
 * reads the re-derive span of those POPs alone and replays it as a cold re-derive does, to the same
 * end, and its series replace theirs (engine.replaceSeries) before the evaluation. The series are
 * independent, so theirs end exactly where a full re-derive would put them, and every other series
 * keeps its long-running state. Without a POP list (another producer, an older replica, more than
 * LANDED_POPS_MAX POPs), or owed POPs past the share where that costs less (late-rederives.ts), the
 * whole engine re-derives. Late re-derives draw on a budget (late-rederives.ts): late data that keeps
 * coming costs at most about one full re-derive per 8 minutes once a burst of two is spent; a
 * re-derive waiting for it keeps its POPs owed, and the passes meanwhile evaluate what the engine has.
 */
import { rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { rm } from 'node:fs/promises';
import { inSpan } from '../telemetry/spans.ts';
import type { Alert } from '@edgeworker/schema';
import type { Logger } from 'pino';
import { LeadershipLostError, type AlertService } from '../alerts/types.ts';
import type { Leadership } from '../cluster/leadership.ts';
import type { Bus } from '../events.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';
import { createDetectorEngine, rederivesAt, rederiveSpanMs, type DetectorEngine, type DetectorSettings, type UnresolvedAlertRef } from './engine.ts';
import { columnsIn } from '../stores/series-bucket-columns.ts';
import { writeEngineSnapshot, type SnapshotWritten, type TakenSnapshot } from './engine-snapshot.ts';
import { evaluateNoData } from './no-data.ts';
import { createPastLanding } from './past-landing.ts';
import { createLateRederives, type LateRederiveState } from './late-rederives.ts';
import { REDERIVE_WORKER_AUTO_CPUS, RederiveWorkerError, startRederiveSplit, type RederiveWorkerOptions } from './rederive-split.ts';

/**
 * A bucket is read once it has been closed this long: samples written at their own
 * timestamp (the generator, most agents) have landed by then. Later samples of a bucket
 * already read are not seen by the running CUSUM (a new leader's replay sees them).
 */
export const SETTLE_MS = 2000;
/**
 * A re-derive's read slice. 15 min, not 5: a statement costs the JS thread ~1.6 ms of its own
 * beyond its rows, and a larger slice is replayed with each series' history warmer; measured
 * alternating at 2,115 series, load 2-4: first pass 1.46-1.71 s with 5-min slices, 1.11-1.59 s
 * with 15 (30: no better). A slice holds the store's read queue ~50 ms at 2,115 series and
 * ~0.2 s at 10,000 (docs/notes/first-pass-2.md).
 */
const READ_SLICE_MS = 15 * 60_000;
/**
 * A re-derive's replay gives the event loop a turn this often: a 15-minute slice is ~1 s of
 * replay at 10,000 series, and HTTP (the dashboards, /health) waited behind it
 * (docs/notes/first-pass-3.md).
 */
const REPLAY_TURN_MS = 25;
/**
 * Late data of at most this many POPs re-derives their span in one read (fed in the usual slices);
 * more read slice by slice, as a full re-derive: 64 POPs' span (422k buckets) bucketed in one
 * block stalled the event loop 115-178 ms, twice a full re-derive's longest stall (docs/notes/late-pops.md).
 */
const ONE_READ_MAX_POPS = 8;
/**
 * The series behind the last read (engine.behind: a slow agent's samples landing after their pass)
 * are caught up by a read of their POPs alone, up to this many POPs; more, one read of every series
 * over the same minutes (at most settings.catchUpMs: ~40k buckets at 2,115 series).
 */
const CATCH_UP_POPS_MAX = 64;

/** A pass cut short because the service is stopping (DetectorService.stop). */
export class DetectorStopping extends Error {
  constructor() {
    super('the detector is stopping: pass cut short');
    this.name = 'DetectorStopping';
  }
}
/**
 * Many POPs' series are read and replayed by one engine (in the usual slices: one read per slice
 * for all of them; read per group of 64 POPs instead, the reads scan every series' rows once per
 * group, and cost 10-40 % more CPU), then copied in this many POPs at a time (~5 ms at 2,115
 * series, ~20 ms at 10,000), with a turn for the event loop between.
 */
const REPLACE_GROUP_POPS = 64;
/**
 * A follower whose last completed pass (read and evaluated) ended longer ago than this re-derives
 * instead of reading on: its passes failed or did not run, it missed that many evaluations, and
 * the catch-up would step more buckets than a re-derive steps. The replay span, as for a snapshot
 * (useSnapshot): the same question, whether a state that stopped moving is still worth reading on from.
 */
const standbyGapMs = (s: DetectorSettings) => s.replayMs;
/**
 * How old a snapshot's state may be (its fedUntil before the first pass) and still be read on
 * from: twice the replay span, 60 minutes by default. The catch-up reads the minutes since and
 * steps them with one baseline window per series-minute (the halfway and older windows are
 * recalled); a re-derive reads the 220-minute span and computes 90 windows per series. Measured
 * with the store holding every minute of the gap (bench/snapshot-profile.ts DOWN_MIN, 2,115
 * series, a leader that ran two hours): down 30 min 0.46-0.56 s, 45 min 0.65-0.77 s, 60 min
 * 0.91-1.23 s, 90 min 1.40-1.70 s, against a cold pass of 1.24-1.68 s at the same end. On embedded
 * DuckDB nothing is written while the server is down, so there the catch-up reads an empty gap
 * (60 min: 0.11-0.13 s against 0.63-0.95 s; EMPTY_GAP=1).
 */
export const snapshotMaxAgeMs = (s: DetectorSettings) => 2 * s.replayMs;

export interface PassResult {
  /** Series with enough data in both windows to be judged. */
  evaluated: number;
  created: Alert[];
  resolved: Alert[];
  /** Unresolved alerts whose current value/severity was refreshed. */
  refreshed: number;
  /** Why nothing was applied, when nothing was: another replica leads, or leadership was lost mid-pass. */
  skipped?: 'not_leader' | 'lost_leadership';
  /**
   * What the pass re-derived from the store, when it re-derived: 'all' (a fresh engine: start, a
   * new leader, late data of unknown POPs), or only the series of these POPs (late data that named them).
   */
  rederived?: 'all' | { pops: string[] };
  /**
   * Late data owes a re-derive ('all', or how many POPs' series) that the budget defers until `until`
   * (late-rederives.ts): the pass evaluated on what the engine had.
   */
  rederiveDeferred?: { owed: 'all' | number; until: string };
  /**
   * Each function's wander as this pass counted it, of the functions with enough history
   * (engine.ts wanderK; absent with DETECTOR_WANDER=off): `level`, the standard deviation of its
   * level beyond its noise over minutes, on the log scale (0.03: about 3 %; 0: none), and `burst`,
   * how much more a 2.5-minute mean of its samples varies than independent samples would (1: as much).
   */
  wander?: Record<string, { level: number; burst: number }>;
  /**
   * Series whose buckets land in parts (several agents, each flushing every few seconds): each
   * newest bucket of theirs waits one to three passes, to be judged whole (engine.ts, PARTS_HOLD_MS).
   */
  heldBack?: number;
  durationMs: number;
}

/** What an early look did (DetectorService.look). */
export interface LookResult {
  /** Series whose bucket still filling had landed enough to be judged (engine.peek's input). */
  looked: number;
  /** Regression alerts it opened. */
  created: Alert[];
  durationMs: number;
}

export interface LastRun {
  at: string;
  durationMs: number;
  ok: boolean;
  evaluated?: number;
  created?: number;
  resolved?: number;
  skipped?: string;
  rederived?: PassResult['rederived'];
  rederiveDeferred?: PassResult['rederiveDeferred'];
  error?: string;
}

export interface DetectorService {
  runPass(): Promise<PassResult>;
  /**
   * The early look between passes (DETECTOR_EARLY): the leader reads what has landed of the bucket
   * still filling and opens the regression alerts the engine finds on it (engine.peek), up to a
   * step sooner than the pass after that bucket closes. It changes nothing else: no state, no
   * refresh, no resolve, no no_data. null when it did not look: not the leader of the last pass,
   * no state yet, late data owing a re-derive, or a pass (or a save) running or queued.
   */
  look(): Promise<LookResult | null>;
  lastRun(): LastRun | null;
  /** Resolves once the passes started so far have finished (close waits for it before closing stores). */
  idle(): Promise<void>;
  /**
   * For a stop: a re-derive in flight is cut short (between two slices or two turns of its
   * replay; its pass fails with DetectorStopping and the engine is left fresh, so no half state is
   * saved), any other pass in flight finishes, and no pass starts after it. Resolves once idle.
   * A re-derive on InfluxDB takes 12-17 s at 2,115 series: longer than a container's usual 10 s
   * between SIGTERM and SIGKILL.
   */
  stop(): Promise<void>;
  /**
   * Writes the engine's state to the snapshot file, once the passes are done (a graceful stop,
   * before the store closes). Only a leader with state writes, and only while its fence holds;
   * null when nothing was written (no snapshot configured, no state, not the leader, late data
   * waiting for a re-derive). The periodic saves (snapshot.everyMs) go through the same code.
   */
  saveSnapshot(): Promise<(SnapshotWritten & { ms: number }) | null>;
  readonly settings: DetectorSettings;
  /** DETECTOR_STANDBY: what this replica does with its engine while another leads. */
  readonly standby: 'warm' | 'cold';
  /** The end of the last bucket the engine read (null: none, or dropped): how warm a follower is, for /health. */
  fedUntil(): number | null;
  /** What late data owes the engine (a re-derive of some POPs or all), and the budget that paces it. */
  lateRederive(): LateRederiveState;
}

export interface DetectorServiceDeps {
  store: MetricsStore;
  alerts: AlertService;
  leadership: Leadership;
  settings: DetectorSettings;
  /** Where it learns of late data (`data_landed` with `earliestMs`); without one, late data waits for a restart. */
  bus?: Bus;
  now: () => number;
  log: Logger;
  /** Called after every pass (metrics). */
  onPass?: (result: PassResult | null, error: unknown) => void;
  /** Called after every early look that looked (metrics). */
  onLook?: (result: LookResult | null, error: unknown) => void;
  /** The engine to run (default: a new one with settings); the bench passes main's frozen engine as its anchor. */
  engine?: DetectorEngine;
  /**
   * The engine snapshot: where saveSnapshot writes it, and what takeEngineSnapshot took from
   * there at start (null: there was none), and how often a leader also saves it after a pass
   * (DETECTOR_SNAPSHOT_EVERY; 0 or absent: only when saveSnapshot is called). Absent: no
   * snapshot (DETECTOR_SNAPSHOT=off).
   */
  snapshot?: { path: string; taken: TakenSnapshot | null; everyMs?: number };
  /** DETECTOR_STANDBY: a follower keeps its engine fed (warm, the default) or drops it (cold). */
  standby?: 'warm' | 'cold';
  /**
   * DETECTOR_REDERIVE_WORKER: a full re-derive shares its replay with a worker thread, by function
   * (rederive-split.ts); false: the JS thread alone. Default: on from REDERIVE_WORKER_AUTO_CPUS CPUs.
   */
  rederiveWorker?: RederiveWorkerOptions | false;
}

export function createDetectorService(deps: DetectorServiceDeps): DetectorService {
  const { store, alerts, leadership, settings, now, log } = deps;
  const engine = deps.engine ?? createDetectorEngine(settings);
  const standby = deps.standby ?? 'warm';
  // Dropped for good after a worker fails: the next re-derives run on the JS thread alone.
  let rederiveWorker = deps.rederiveWorker ?? (availableParallelism() >= REDERIVE_WORKER_AUTO_CPUS ? {} : false);
  // The role of this process's previous pass, and the end of the last pass that fed and
  // evaluated its engine (as leader or follower): a follower's state is trusted by its first
  // pass as leader only when it is that recent (standbyGapMs).
  let role: 'none' | 'leader' | 'follower' = 'none';
  let evaluatedEndMs: number | null = null;
  let last: LastRun | null = null;
  let tail: Promise<unknown> = Promise.resolve();
  // Passes and saves queued on tail or running: an early look waits for none of them (it is skipped).
  let queued = 0;
  // The unresolved regression alerts as of the leader's last pass, and those the looks opened
  // since: a look does not ask the alert store every 2 s (a pass refreshes an open alert).
  let openRegressions = new Map<string, UnresolvedAlertRef>();
  const pairKey = (popCode: string, functionName: string) => `${popCode}\u0000${functionName}`;
  // Set by stop(): a re-derive in flight stops at its next slice or turn, and no pass starts.
  let stopping = false;
  const checkStopping = () => {
    if (stopping) throw new DetectorStopping();
  };
  // The end of the pass running now, if one is: a fresh engine has read nothing until its
  // re-derive finishes, but data landing meanwhile may be behind what that re-derive reads.
  let passEndMs: number | null = null;
  // The POPs whose series late data (further behind than settings.catchUpMs) owes a re-derive, or 'all' (an
  // announcement that named none, too many together); paced by its budget (late-rederives.ts).
  // How many POPs the engine holds is counted when a re-derive is weighed (a share's denominator), once a pass.
  let popsHeldCount: number | null = null;
  const popsHeld = () => {
    if (popsHeldCount === null) {
      const pops = new Set<string>();
      for (const s of engine.lastSeen()) pops.add(s.popCode);
      popsHeldCount = pops.size;
    }
    return popsHeldCount;
  };
  const late = createLateRederives(popsHeld);
  // Where data of the past (older than the no-data threshold) lands: a backfill or a replay is
  // filling the store behind now there, so silence at that edge is not a stop (past-landing.ts).
  const pastLanding = createPastLanding(settings.noDataAfterMs);
  // A snapshot taken at start (its file open), until the first pass uses or drops it.
  let restore: Extract<TakenSnapshot, { ok: true }> | null = null;
  const taken = deps.snapshot?.taken;
  if (taken && !taken.ok) log.warn({ reason: taken.reason }, 'detector snapshot not used: the first pass re-derives from the store');
  else if (taken?.ok) restore = taken;
  const drop = (why: string) => {
    if (!restore) return;
    log.info(why);
    void restore.close().catch(() => undefined);
    restore = null;
  };
  // The fence of the last pass that ran as leader: a snapshot is written only while it holds.
  let lastFence: number | null = null;
  const everyMs = deps.snapshot?.everyMs ?? 0;
  // When this process last saved (or, before that, first led): the periodic saves count from it.
  let lastSaveAtMs: number | null = null;
  // The fedUntil of the snapshot this process wrote last, while the file may still be there.
  let savedFedUntil: number | null = null;
  // Bumped by late data that the snapshot would lack: a save that began before it is not committed.
  let lateGen = 0;
  /** Deletes the snapshot this process wrote (synchronously: a crash right after must not find it). */
  const discardSaved = (why: string) => {
    if (!deps.snapshot || savedFedUntil === null) return;
    savedFedUntil = null;
    try {
      rmSync(deps.snapshot.path, { force: true });
      log.info(`detector snapshot deleted: ${why}`);
    } catch (err) {
      log.warn({ err }, 'could not delete the detector snapshot');
    }
  };
  /** Adds late data's POPs to the re-derive owed ('all' when there are none, or too many). */
  const owe = (pops: Iterable<string> | undefined) => late.owe(pops);
  // Samples landing further behind what the engine has read than a steady read catches up
  // (settings.catchUpMs: a backfill, a buffered writer's replay after an outage) make a later pass
  // re-derive, so the baselines hold them; less late, a steady read feeds them to a series that is
  // behind (an agent's flush interval, delivery jitter). When, and how much, is late-rederives.ts's:
  // at most one a minute, within a budget, POP by POP while that costs less than a full re-derive.
  // Behind an edge by more than that, and within the history a re-derive reads.
  const behind = (edge: number | null, earliestMs: number, latestMs: number) => edge !== null && earliestMs < edge - settings.catchUpMs && latestMs >= edge - rederiveSpanMs(settings);
  // The bus lives as long as the app that owns this service, so the subscription is never dropped.
  deps.bus?.subscribe((e) => {
    if (e.type === 'bus_resumed') {
      // The other replicas' announcements did not reach this one for a while: late data may have
      // landed unheard, anywhere in the span. What this replica holds (state, a snapshot taken or
      // saved) is treated as if it had: the next pass re-derives every series (which POPs, it cannot know).
      if ((engine.readUntil() ?? restore?.state.fedUntil ?? passEndMs) !== null) {
        owe(undefined);
        log.info({ downForMs: e.downForMs }, 'the bus that announces late data was cut off; the next pass re-derives the detector state from the store');
      }
      lateGen++;
      discardSaved('the bus that announces late data was cut off');
      return;
    }
    if (e.type !== 'data_landed' || e.earliestMs === undefined) return;
    if (e.latestMs < now() - settings.noDataAfterMs) pastLanding.landed(now(), e.pops);
    // Before the first pass, a snapshot's fedUntil is the edge: late data behind it makes that pass re-derive.
    const edge = engine.readUntil() ?? restore?.state.fedUntil ?? passEndMs;
    const late = behind(edge, e.earliestMs, e.latestMs);
    if (late) owe(e.pops);
    // The saved snapshot lacks it: a crash before the next save would restart from it, and the
    // next process would not know (the data is in the store already). Deleted before anything else.
    if (late || behind(savedFedUntil, e.earliestMs, e.latestMs)) {
      lateGen++;
      discardSaved('samples landed behind it; the next save (after the re-derive) writes a new one');
    }
  });

  async function pass(): Promise<PassResult> {
    const started = now();
    // Whole, settled buckets only: the one still filling is judged at a later pass.
    const endMs = Math.floor((started - SETTLE_MS) / settings.stepMs) * settings.stepMs;
    const prevRole = role;
    passEndMs = endMs;
    try {
      const outcome = await leadership.runAsLeader(async (fence) => {
        role = 'leader';
        return lead(fence, started, endMs, prevRole);
      });
      if (outcome.ran) return { ...outcome.value, durationMs: now() - started };
      role = 'follower';
      // Another replica leads: this one writes nothing, and a snapshot taken at start, or saved
      // while it led, would be stale by the time it leads again (it is not saved on from here).
      lastFence = null;
      lastSaveAtMs = null;
      drop('detector snapshot dropped: another replica leads');
      discardSaved('another replica leads');
      const skipped = { evaluated: 0, created: [], resolved: [], refreshed: 0, skipped: 'not_leader' as const };
      if (standby === 'cold' || outcome.holder === null) {
        // Cold; or the lock cannot be reached (Redis down or cut off), and with it the bus that
        // announces late data: what this replica holds may lack samples it was never told of.
        if (standby === 'warm' && engine.readUntil() !== null) log.warn('cannot reach the detector lock: the standby engine state is dropped (late data announced meanwhile would be missed); it re-derives once the lock answers');
        engine.reset();
        log.debug({ holder: outcome.holder }, 'not the detector leader; pass skipped');
        return { ...skipped, durationMs: now() - started };
      }
      // Warm standby: fed and evaluated as the leader is, its findings dropped (they are the leader's to write).
      const { rederived, rederiveDeferred, wander } = await feed(endMs, started, prevRole);
      log.debug({ holder: outcome.holder, fedUntil: engine.readUntil() }, 'not the detector leader; engine kept warm');
      return { ...skipped, ...(rederived ? { rederived } : {}), ...(rederiveDeferred ? { rederiveDeferred } : {}), ...(wander ? { wander } : {}), durationMs: now() - started };
    } finally {
      passEndMs = null;
    }
  }

  /**
   * Brings the engine to endMs: reads the buckets closed since its last read (the whole span
   * when it is fresh, behind, or late data landed behind it) and evaluates it with the
   * unresolved regression alerts. The leader's pass and a warm follower's are this, read for
   * read: evaluate moves the engine's state (an unconfirmed run starts again from 0, a
   * confirmation is reused for a minute), so a follower that only read would not be where the
   * leader is.
   */
  async function feed(endMs: number, started: number, prevRole: typeof role) {
    if (prevRole === 'follower' && engine.readUntil() !== null && (evaluatedEndMs === null || endMs - evaluatedEndMs > standbyGapMs(settings))) {
      // Its passes failed or did not run for longer than the replay span: it missed that many
      // evaluations, and catching up would step more buckets than a re-derive does.
      log.info({ evaluatedUntil: evaluatedEndMs === null ? null : new Date(evaluatedEndMs).toISOString() }, 'the standby engine state is older than the replay span; re-deriving it from the store');
      engine.reset();
    }
    let partial: ReadonlySet<string> | null = null;
    let rederiveDeferred: PassResult['rederiveDeferred'];
    if (rederivesAt(engine.readUntil(), endMs, settings)) {
      // A fresh engine (start, a new leader, a gap) re-derives every series anyway.
      late.paidByFresh();
    } else {
      popsHeldCount = null;
      const took = late.take(started);
      if (took.kind === 'due') {
        if (took.deferredForMs > 0) log.info({ deferredForMs: took.deferredForMs }, 'the late-data re-derive the budget deferred runs now');
        if (took.due === 'all') {
          log.info('samples landed behind what the detector had read (a backfill or a replay); re-deriving its state from the store');
          engine.reset();
        } else partial = took.due;
      } else if (took.kind === 'deferred') {
        const owed = took.owed === 'all' ? 'all' : took.owed.size;
        rederiveDeferred = { owed, until: new Date(took.untilMs).toISOString() };
        // Once per wait: late data that keeps coming would otherwise log it every pass.
        if (took.first) log.warn({ owed, until: rederiveDeferred.until }, 'late data keeps landing behind the detector: its re-derive waits for the budget (late re-derives are paced), the detector evaluates on what it has meanwhile');
      }
    }
    const fresh = rederivesAt(engine.readUntil(), endMs, settings);
    let rederived: PassResult['rederived'] = fresh ? 'all' : undefined;
    try {
      if (!fresh) await catchUp(endMs);
      await replay(engine, endMs);
      if (partial && !fresh) {
        // Those POPs' series as a full re-derive to this end would leave them: a fresh engine reads
        // their span alone, in the same slices, and replays it; every other series stays as it is.
        const pops = [...partial].sort();
        log.info({ pops: pops.length <= 16 ? pops : `${pops.length} POPs` }, 'samples landed behind what the detector had read for some POPs (a replay, a backfill); re-deriving their series from the store');
        // The functions' wander from the main engine: the sub-engine holds some POPs' series only.
        const sub = createDetectorEngine(settings, { wanderFrom: engine });
        await replay(sub, endMs, pops);
        const state = sub.exportState() ?? { fedUntil: endMs, stepFrom: -Infinity, series: [] };
        // Copied in a group of POPs at a time, with a turn for the event loop between: 1,000 POPs'
        // 5,000 series are 290-350 ms of copying at 10,000 series (docs/notes/late-flood.md).
        for (let g = 0; g < pops.length; g += REPLACE_GROUP_POPS) {
          if (g > 0) await new Promise((resolve) => setImmediate(resolve));
          engine.replaceSeries(state, new Set(pops.slice(g, g + REPLACE_GROUP_POPS)));
        }
        rederived = { pops };
      }
    } catch (err) {
      // A failed read: those POPs' re-derive is still owed (a full one needs nothing: the engine is fresh).
      if (partial && !fresh) owe(partial);
      throw err;
    }
    const unresolved = await alerts.listUnresolved();
    const ev = engine.evaluate(unresolved.filter((a) => a.type === 'regression'), endMs);
    evaluatedEndMs = endMs;
    popsHeldCount = null;
    const wander = settings.wanderK > 0 ? Object.fromEntries([...engine.wanderAt(endMs)].map(([fn, w]) => [fn, { level: Math.round(Math.sqrt(w.level) * 1e4) / 1e4, burst: Math.round(w.burst * 1e3) / 1e3 }])) : undefined;
    return { ev, unresolved, rederived, rederiveDeferred, wander };
  }

  /**
   * The store's buckets of [fromMs, toMs) at the engine's step (of `pops` only, when given): as
   * columns where the store has them (a re-derive is ~444k buckets at 2,115 series, and an
   * object, a key and a sort per bucket were a quarter of the engine's replay).
   */
  function readBuckets(fromMs: number, toMs: number, opts?: { pops: string[] }) {
    const range = { fromNs: BigInt(fromMs) * 1_000_000n, toNs: BigInt(toMs) * 1_000_000n };
    return store.seriesBucketColumns ? store.seriesBucketColumns(range, settings.stepMs, opts) : store.seriesBuckets(range, settings.stepMs, opts);
  }

  /**
   * Feeds the series that are behind the last read what has landed for them since (engine.behind),
   * before the pass reads on: their POPs' buckets from where the oldest of them stopped to where the
   * last read ended. The engine skips what a series holds already, so each gets its own later
   * buckets, in order; a POP whose agent delivers a minute late is judged a minute late, not
   * never. (Up to MAX_HOLD_STEPS behind, the pass's own read covers it: engine.readFrom.)
   */
  async function catchUp(endMs: number) {
    const lagging = engine.behind(endMs);
    const until = engine.readUntil();
    if (!lagging || until === null) return;
    const got = await readBuckets(lagging.fromMs, until, lagging.pops.length <= CATCH_UP_POPS_MAX ? { pops: lagging.pops } : undefined);
    if (Array.isArray(got)) engine.ingest(got, until);
    else engine.ingestColumns(got, until);
  }

  /**
   * Feeds an engine the buckets of [readFrom(endMs), endMs) (of `pops` only, when given): the
   * whole span when it is fresh or behind, else the buckets closed since its last read.
   * A re-derive reads its span in slices of a few minutes, oldest first: the same rows, but
   * no single query holds the store's read queue (and the dashboards behind it) for seconds.
   * The next slice is read while the engine replays this one: the store's query runs off
   * the JS thread, so the replay and the read overlap instead of adding up.
   */
  async function replay(target: DetectorEngine, endMs: number, pops?: string[]) {
    // Before readFrom, which drops the state of an engine that re-derives.
    const whole = !pops && rederivesAt(target.readUntil(), endMs, settings);
    const slices: Array<[number, number]> = [];
    for (let from = target.readFrom(endMs); from < endMs; from += READ_SLICE_MS) slices.push([from, Math.min(endMs, from + READ_SLICE_MS)]);
    const opts = pops ? { pops } : undefined;
    const read = ([from, to]: [number, number]) => readBuckets(from, to, opts);
    if (pops && pops.length <= ONE_READ_MAX_POPS && slices.length > 0) {
      // A few POPs' span in one statement, fed in the same slices (the state is then exactly a full
      // re-derive's): each slice's statement scans every series' rows of its 15 minutes to find
      // theirs, and 15 of them cost ~3x the one (DuckDB, 1 POP at 2,115 series: 85 ms against 30;
      // docs/notes/late-pops.md). A few POPs' rows are few: the statement holds the read queue briefly.
      const got = await read([slices[0]![0], endMs]);
      for (const [from, to] of slices) {
        if (Array.isArray(got)) target.ingest(got.filter((b) => b.startMs >= from && b.startMs < to), to);
        else await stepwise(target.ingestColumnsStepwise(columnsIn(got, from, to), to));
      }
      return;
    }
    // A fresh engine's whole span: split with a worker thread by function, where there is one
    // to spare (rederive-split.ts); a steady pass's few buckets are not worth a thread.
    const split = whole && rederiveWorker && store.seriesBucketColumns ? startRederiveSplit(settings, endMs, rederiveWorker) : null;
    let next = slices.length > 0 ? read(slices[0]!) : null;
    try {
      for (let i = 0; i < slices.length; i++) {
        const got = await next!;
        // A stop cuts a re-derive short between slices (and between turns of a slice below); a steady pass is one slice.
        if (slices.length > 1) checkStopping();
        next = i + 1 < slices.length ? read(slices[i + 1]!) : null;
        if (Array.isArray(got)) target.ingest(got, slices[i]![1]);
        else {
          // Series by series, with a turn for the event loop every REPLAY_TURN_MS (the pass is
          // serialised, so nothing else touches the engine meanwhile).
          await stepwise(target.ingestColumnsStepwise(split ? split.take(got, slices[i]![1]) : got, slices[i]![1]), slices.length > 1);
        }
      }
      if (split) {
        const t = performance.now();
        const { workerSeries, jsSeries } = await split.finish(target);
        if (workerSeries > 0) log.info({ workerSeries, jsSeries, takeOverMs: Math.round(performance.now() - t) }, 'detector state re-derived in two threads');
      }
    } catch (err) {
      split?.abort();
      if (!(err instanceof RederiveWorkerError)) {
        // The worker's functions' series went with it: what is left holds the JS thread's alone,
        // fed up to the last slice, and a pass reading on from it would never give the others
        // their history. The next pass re-derives. (One thread's half re-derive is read on from:
        // every series it holds was fed slice by slice.)
        // A whole re-derive cut short by a stop is dropped too: nothing half done is saved at the
        // stop, and the next start re-derives, as it would have.
        if (split || (whole && err instanceof DetectorStopping)) target.reset();
        throw err;
      }
      // The worker failed (not the store): this re-derive, and the next ones, on the JS thread alone.
      log.warn({ err }, 'the re-derive worker thread failed; re-deriving on the JS thread alone from now on');
      rederiveWorker = false;
      target.reset();
      return replay(target, endMs);
    } finally {
      // A failed replay leaves at most one read in flight: its outcome is nobody's.
      next?.catch(() => undefined);
    }
  }

  /** The leader's pass: feed, then apply the findings through the alert service under the fence. */
  async function lead(fence: number, started: number, endMs: number, prevRole: typeof role): Promise<Omit<PassResult, 'durationMs'>> {
    lastFence = fence;
    lastSaveAtMs ??= started;
    if (restore) {
      const r = restore;
      restore = null;
      try {
        await useSnapshot(r, endMs);
      } finally {
        void r.close().catch(() => undefined);
      }
    }
    const { ev, unresolved, rederived, rederiveDeferred, wander } = await feed(endMs, started, prevRole);
    const silence = evaluateNoData(engine.lastSeen(), unresolved, endMs, { afterMs: settings.noDataAfterMs, stepMs: settings.stepMs, minBuckets: 6 }, (x) => engine.usualSilence(x.popCode, x.functionName));
    const result: Omit<PassResult, 'durationMs'> = { evaluated: ev.evaluated, created: [], resolved: [], refreshed: 0, heldBack: ev.heldBack, ...(rederived ? { rederived } : {}), ...(rederiveDeferred ? { rederiveDeferred } : {}), ...(wander ? { wander } : {}) };
    // The fence goes through to every alert write: a leader deposed while it commits
    // stops at its next write instead of finishing the pass on a lock it lost.
    const stillLeading = () => leadership.stillLeader(fence);
    const lost = () => {
      log.warn({ fence }, 'lost detector leadership during the pass; its remaining findings are left to the new leader');
      // Warm: its state is what it read and evaluated, as a follower's would be; it follows on
      // from it (it found what the new leader finds, which writes it). Cold: dropped.
      if (standby === 'cold') engine.reset();
      lastFence = null;
      discardSaved('lost the leadership');
      return { ...result, skipped: 'lost_leadership' as const };
    };
    if (!(await stillLeading())) return lost();
    // Each opening, fenced: null once this replica no longer leads (nothing more is written).
    const open = async (raise: () => Promise<{ alert: Alert; created: boolean }>) => {
      try {
        return await raise();
      } catch (err) {
        if (err instanceof LeadershipLostError) return null;
        throw err;
      }
    };
    // What the early looks until the next pass leave alone: the regression alerts open after it.
    openRegressions = new Map(unresolved.filter((a) => a.type === 'regression').map((a) => [pairKey(a.popCode, a.functionName), a]));
    for (const finding of ev.raise) {
      const raised = await open(() => alerts.raise(finding, stillLeading));
      if (!raised) return lost();
      const { alert, created } = raised;
      openRegressions.set(pairKey(alert.popCode, alert.functionName), alert);
      if (created) {
        result.created.push(alert);
        log.info({ alert: alert.id, pop: alert.popCode, fn: alert.functionName, severity: alert.severity, changePct: alert.changePct }, 'regression alert opened');
      } else result.refreshed++;
    }
    // While a backfill or a replay lands, the edge of its POPs' data is behind now by design: opening
    // no_data alerts for them would page for silence while the store is filling (resolutions still apply).
    const waiting: typeof silence.raise = [];
    const due: typeof silence.raise = [];
    for (const f of silence.raise) (pastLanding.withholds(f.popCode, started) ? waiting : due).push(f);
    if (waiting.length > 0) log.debug({ findings: waiting.length, pops: waiting.slice(0, 8).map((f) => f.popCode) }, 'data of the past is landing; their no_data findings wait');
    for (const finding of due) {
      const raised = await open(() => alerts.raiseNoData(finding, stillLeading));
      if (!raised) return lost();
      if (raised.created) {
        const { alert } = raised;
        result.created.push(alert);
        log.info({ alert: alert.id, pop: alert.popCode, fn: alert.functionName, lastSeenAt: alert.lastSeenAt }, 'no_data alert opened');
      }
    }
    for (const id of [...ev.resolve, ...silence.resolve]) {
      try {
        const alert = await alerts.resolve(id, 'detector', stillLeading);
        result.resolved.push(alert);
        if (alert.type === 'regression') openRegressions.delete(pairKey(alert.popCode, alert.functionName));
        log.info({ alert: id, type: alert.type, pop: alert.popCode, fn: alert.functionName }, alert.type === 'no_data' ? 'no_data alert resolved: data is back' : 'regression alert resolved: back at baseline');
      } catch (err) {
        if (err instanceof LeadershipLostError) return lost();
        // An operator may have resolved it between our read and now; the others still apply.
        log.warn({ err, alert: id }, 'could not resolve alert; skipping it this pass');
      }
    }
    return result;
  }

  /** Runs an engine's steps, giving the event loop a turn every REPLAY_TURN_MS. */
  async function stepwise(steps: Generator<void, void, undefined>, stoppable = false) {
    let since = performance.now();
    while (!steps.next().done) {
      if (performance.now() - since < REPLAY_TURN_MS) continue;
      await new Promise((resolve) => setImmediate(resolve));
      if (stoppable) checkStopping();
      since = performance.now();
    }
  }

  /** Starts the engine from a snapshot when it is recent enough; otherwise the pass re-derives. */
  async function useSnapshot(snapshot: Extract<TakenSnapshot, { ok: true }>, endMs: number) {
    if (engine.readUntil() !== null) return;
    const state = snapshot.state;
    const ageMs = endMs - state.fedUntil;
    // Older than snapshotMaxAgeMs: a re-derive costs about as much as the catch-up. From the
    // future: the clock went back.
    if (ageMs > snapshotMaxAgeMs(settings) || ageMs < 0) {
      log.info({ fedUntil: new Date(state.fedUntil).toISOString(), ageMs, maxAgeMs: snapshotMaxAgeMs(settings) }, 'detector snapshot not used: older than its catch-up limit (or from the future); re-deriving from the store');
      return;
    }
    const t = performance.now();
    try {
      // In steps, with a turn for the event loop every REPLAY_TURN_MS, as the replay.
      await stepwise(engine.importStateStepwise(state));
    } catch (err) {
      // Read as it is imported: a read error half-way leaves part of a state, which is dropped.
      engine.reset();
      log.warn({ err }, 'detector snapshot could not be imported; re-deriving from the store');
      return;
    }
    log.info({ series: snapshot.series, fedUntil: new Date(state.fedUntil).toISOString(), ageMs, importMs: Math.round(performance.now() - t) }, 'detector state restored from its snapshot; reading on from where it stopped');
  }

  async function save(periodic = false): Promise<(SnapshotWritten & { ms: number }) | null> {
    if (!deps.snapshot) return null;
    const path = deps.snapshot.path;
    const state = engine.exportState();
    const fence = lastFence;
    if (!state || fence === null) {
      log.info('no detector state to snapshot (not the leader, or no pass yet)');
      return null;
    }
    if (late.owed()) {
      // The state lacks samples that landed behind it; its re-derive is pending (at most one a minute).
      log.info('samples landed behind the detector state and its re-derive is pending: no snapshot written');
      return null;
    }
    if (!(await leadership.stillLeader(fence))) {
      log.info({ fence }, 'not the detector leader any more: no snapshot written');
      discardSaved('not the leader any more');
      return null;
    }
    const gen = lateGen;
    const t = performance.now();
    // The fence again just before the file replaces an older one: a deposed leader writes nothing;
    // nor one whose state late data made stale while it wrote.
    const written = await writeEngineSnapshot(path, state, settings, now(), async () => gen === lateGen && (await leadership.stillLeader(fence)));
    const ms = Math.round(performance.now() - t);
    if (!written) {
      if (gen === lateGen) discardSaved('lost the leadership');
      log.info({ fence }, gen === lateGen ? 'lost detector leadership while writing the snapshot: not committed' : 'samples landed behind the detector state while writing the snapshot: not committed');
      return null;
    }
    if (gen !== lateGen) {
      // Late data landed between the check above and the rename: the file lacks it.
      await rm(path, { force: true });
      log.info('samples landed behind the detector state while writing the snapshot: deleted');
      return null;
    }
    savedFedUntil = written.fedUntil;
    lastSaveAtMs = now();
    log[periodic ? 'debug' : 'info']({ path, series: written.series, bytes: written.bytes, ms }, periodic ? 'detector snapshot saved (periodic)' : 'detector snapshot written');
    return { ...written, ms };
  }

  /** After a pass: the periodic save, when one is due and this replica leads with a state. */
  async function saveIfDue() {
    if (everyMs <= 0 || lastFence === null || lastSaveAtMs === null || now() - lastSaveAtMs < everyMs || late.owed()) return;
    try {
      await save(true);
    } catch (err) {
      log.warn({ err }, 'could not write the periodic detector snapshot; trying again after the next pass');
    } finally {
      // Counted from the attempt, not the success: a failing disk is retried every everyMs, not every pass.
      lastSaveAtMs = now();
    }
  }

  /** The early look (see DetectorService.look); runs on tail, after the pass before it. */
  async function lookEarly(): Promise<LookResult | null> {
    const from = engine.readUntil();
    const fence = lastFence;
    if (stopping || role !== 'leader' || fence === null || from === null || late.owed()) return null;
    const started = now();
    // What has landed of the bucket that starts where the last pass read to (only that one is judged).
    const toMs = Math.min(started, from + settings.stepMs);
    if (toMs <= from) return null;
    const landed = await store.seriesBuckets({ fromNs: BigInt(from) * 1_000_000n, toNs: BigInt(toMs) * 1_000_000n }, settings.stepMs);
    const found = engine.peek(landed, [...openRegressions.values()]);
    const result: LookResult = { looked: landed.length, created: [], durationMs: 0 };
    const stillLeading = () => leadership.stillLeader(fence);
    for (const finding of found) {
      try {
        const { alert, created } = await alerts.raise(finding, stillLeading);
        openRegressions.set(pairKey(alert.popCode, alert.functionName), alert);
        if (!created) continue;
        result.created.push(alert);
        log.info({ alert: alert.id, pop: alert.popCode, fn: alert.functionName, severity: alert.severity, changePct: alert.changePct, early: true }, 'regression alert opened');
      } catch (err) {
        if (err instanceof LeadershipLostError) {
          log.warn({ fence }, 'lost detector leadership during an early look; its findings are left to the new leader');
          break;
        }
        throw err;
      }
    }
    result.durationMs = now() - started;
    return result;
  }

  async function runRecorded(): Promise<PassResult> {
    const at = new Date(now()).toISOString();
    const t = now();
    try {
      const r = await pass();
      last = { at, durationMs: r.durationMs, ok: true, evaluated: r.evaluated, created: r.created.length, resolved: r.resolved.length, ...(r.skipped ? { skipped: r.skipped } : {}), ...(r.rederived ? { rederived: r.rederived } : {}), ...(r.rederiveDeferred ? { rederiveDeferred: r.rederiveDeferred } : {}) };
      log.debug({ ...last }, 'detector pass done');
      deps.onPass?.(r, null);
      return r;
    } catch (err) {
      last = { at, durationMs: now() - t, ok: false, error: (err as Error).message };
      deps.onPass?.(null, err);
      throw err;
    }
  }

  return {
    settings,
    standby,
    fedUntil: () => engine.readUntil(),
    lateRederive: () => late.state(now()),
    runPass() {
      const run = () => inSpan('detector.pass', {}, async (span) => {
        checkStopping();
        const r = await runRecorded();
        span?.setAttributes({ 'detector.evaluated': r.evaluated, 'detector.created': r.created.length, 'detector.resolved': r.resolved.length, ...(r.skipped ? { 'detector.skipped': r.skipped } : {}) });
        return r;
      });
      queued++;
      const p = tail.then(run, run);
      // The periodic save, serialised like the passes: the next one waits for it.
      tail = p
        .catch(() => undefined)
        .then(saveIfDue)
        .finally(() => queued--);
      return p;
    },
    look() {
      // Never behind a pass: a look that waited would judge what the pass is about to feed.
      if (queued > 0 || stopping) return Promise.resolve(null);
      const p = tail.then(lookEarly, lookEarly).then(
        (r) => {
          if (r) deps.onLook?.(r, null);
          return r;
        },
        (err: unknown) => {
          deps.onLook?.(null, err);
          throw err;
        },
      );
      tail = p.catch(() => undefined);
      return p;
    },
    lastRun: () => last,
    idle: () => tail.then(() => undefined),
    stop() {
      stopping = true;
      return tail.then(() => undefined);
    },
    saveSnapshot() {
      // Serialised with the passes: the state is written from the engine's own arrays, which a pass would move.
      queued++;
      const p = tail.then(() => save(), () => save());
      tail = p.catch(() => undefined).finally(() => queued--);
      return p;
    },
  };
}
