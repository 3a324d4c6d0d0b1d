/**
 * The `detector` component of /health: schedule, next run, the last pass (time,
 * duration, result) and leadership. Degraded when the last pass failed (the next
 * scheduled one tries again).
 */
import type { ComponentHealth } from '../health/health.ts';
import type { Leadership } from '../cluster/leadership.ts';
import type { DetectorService } from './detector-service.ts';
import type { DetectorSchedule } from './schedule.ts';

export function detectorHealth(detector: DetectorService, schedule: DetectorSchedule | null, leadership: Leadership): ComponentHealth {
  const last = detector.lastRun();
  const s = detector.settings;
  return {
    status: last && !last.ok ? 'degraded' : 'ok',
    schedule: schedule?.expression ?? null,
    nextRunAt: schedule?.nextRun()?.toISOString() ?? null,
    running: schedule?.busy() ?? false,
    lastRun: last,
    leader: leadership.state().leader,
    leadership: leadership.kind,
    windows: { recentMs: s.recentMs, baselineMs: s.baselineMs, stepMs: s.stepMs, minChange: s.minChange, resolveAfterMs: s.resolveAfterMs },
  };
}
