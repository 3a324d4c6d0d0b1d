/**
 * Status from thresholds per function. A function's status at a POP comes from its mean
 * cold start over the window against that function's own pair (STATUS_THRESHOLDS, else
 * the function catalog's defaults, else STATUS_WARN_MS / STATUS_CRIT_MS for functions only
 * seen in data); a POP's status is the worst of its functions'. One global pair made a POP's
 * status depend on which functions dominate its samples: ssr-render alone looked "warning"
 * almost everywhere while auth-check could triple without leaving "healthy".
 *
 * A POP that has been silent for the no-data threshold is `no_data` whatever its window
 * still holds: a POP that stopped reporting is not healthy.
 */
import type { PopStatus } from '@edgeworker/schema';

export interface Thresholds {
  warnMs: number;
  critMs: number;
}

export interface StatusPolicy {
  /** For functions without a pair of their own. */
  warnMs: number;
  critMs: number;
  /** Per function name (the query service puts the function catalog's defaults underneath). */
  functions?: Record<string, Thresholds> | undefined;
}

export function thresholdsFor(policy: StatusPolicy, functionName: string): Thresholds {
  return policy.functions?.[functionName] ?? { warnMs: policy.warnMs, critMs: policy.critMs };
}

export function statusOf(mean: number | null, samples: number, t: Thresholds): PopStatus {
  if (samples === 0 || mean === null) return 'no_data';
  if (mean >= t.critMs) return 'critical';
  if (mean >= t.warnMs) return 'warning';
  return 'healthy';
}

const RANK: Record<PopStatus, number> = { no_data: 0, healthy: 1, warning: 2, critical: 3 };

/** The worst of several statuses; no_data only when nothing had data. */
export function worstOf(statuses: Iterable<PopStatus>): PopStatus {
  let worst: PopStatus = 'no_data';
  for (const s of statuses) if (RANK[s] > RANK[worst]) worst = s;
  return worst;
}

/** Per-function means of one POP over the window -> its status (the worst function's). */
export function popStatus(fns: Iterable<{ functionName: string; mean: number | null; samples: number }>, policy: StatusPolicy): PopStatus {
  const statuses: PopStatus[] = [];
  for (const f of fns) statuses.push(statusOf(f.mean, f.samples, thresholdsFor(policy, f.functionName)));
  return worstOf(statuses);
}

/**
 * STATUS_THRESHOLDS: `ssr-render=400:800,auth-check=60:120` (warn:crit in ms, warn < crit).
 * Throws with a message naming the bad entry.
 */
export function parseStatusThresholds(raw: string): Record<string, Thresholds> {
  const out: Record<string, Thresholds> = {};
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^=\s]+)\s*=\s*(\d+(?:\.\d+)?)\s*:\s*(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new Error(`"${part}" is not function=warn:crit (e.g. ssr-render=400:800)`);
    const warnMs = Number(m[2]);
    const critMs = Number(m[3]);
    if (!(warnMs > 0) || !(critMs > warnMs)) throw new Error(`"${part}": expected 0 < warn < crit`);
    out[m[1]!] = { warnMs, critMs };
  }
  return out;
}
