/** POP status from documented thresholds (STATUS_WARN_MS, STATUS_CRIT_MS) on the window's mean. */
import type { PopStatus } from '@edgeworker/schema';

export interface Thresholds {
  warnMs: number;
  critMs: number;
}

export function statusOf(mean: number | null, samples: number, t: Thresholds): PopStatus {
  if (samples === 0 || mean === null) return 'no_data';
  if (mean >= t.critMs) return 'critical';
  if (mean >= t.warnMs) return 'warning';
  return 'healthy';
}
