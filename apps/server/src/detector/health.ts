/**
 * The `detector` component of /health: schedule (and the early looks'), next run, the last pass (time,
 * duration, result), leadership and the standby (DETECTOR_STANDBY; how far the engine has
 * read: a warm follower keeps up with the leader). Degraded when the last pass failed (the next
 * scheduled one tries again).
 */
import type { ComponentHealth } from '../health/health.ts';
import type { Leadership } from '../cluster/leadership.ts';
import type { DetectorService } from './detector-service.ts';
import type { LateRederiveState } from './late-rederives.ts';
import type { DetectorSchedule } from './schedule.ts';

const lateData = (l: LateRederiveState) => ({ owed: l.owed, budget: l.budget, deferredUntil: l.deferredUntilMs === null ? null : new Date(l.deferredUntilMs).toISOString() });

export function detectorHealth(detector: DetectorService, schedule: DetectorSchedule | null, leadership: Leadership, early: DetectorSchedule | null = null): ComponentHealth {
  const last = detector.lastRun();
  const s = detector.settings;
  return {
    status: last && !last.ok ? 'degraded' : 'ok',
    schedule: schedule?.expression ?? null,
    nextRunAt: schedule?.nextRun()?.toISOString() ?? null,
    running: schedule?.busy() ?? false,
    // The early looks between passes (DETECTOR_EARLY; null: off); their counts and times are on /metrics.
    early: early?.expression ?? null,
    lastRun: last,
    leader: leadership.state().leader,
    leadership: leadership.kind,
    // A warm follower's fedUntil follows the leader's pass by pass; null: it would re-derive on taking over.
    standby: { mode: detector.standby, fedUntil: detector.fedUntil() === null ? null : new Date(detector.fedUntil()!).toISOString() },
    // Late data's re-derive: what is owed ('all', a number of POPs, null), the budget (full re-derives' worth), and until when it waits.
    lateData: lateData(detector.lateRederive()),
    windows: { recentMs: s.recentMs, baselineMs: s.baselineMs, stepMs: s.stepMs, minChange: s.minChange, resolveAfterMs: s.resolveAfterMs },
  };
}
