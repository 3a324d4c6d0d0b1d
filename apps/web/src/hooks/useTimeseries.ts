import { useCallback } from 'react';
import type { Timeseries } from '@edgeworker/schema';
import { api } from '../api/client';
import type { ChartRange } from '../lib/ranges';
import { useCoalescedFetch, type FetchState } from './useCoalescedFetch';
import { useThrottled } from './useThrottled';

/**
 * The POP's time series over the last `range`, ending now and aligned to the step so buckets
 * stay put between refreshes. Refreshed on live updates, throttled to about one step
 * (between 5 s and 60 s).
 */
export function useTimeseries(
  code: string,
  fn: string | null,
  range: ChartRange,
  version: number,
): FetchState<Timeseries> {
  const load = useCallback(
    (signal: AbortSignal) => {
      const to = Math.ceil(Date.now() / range.stepMs) * range.stepMs;
      return api.timeseries(code, { from: to - range.rangeMs, to, step: range.step, fn }, signal);
    },
    [code, fn, range],
  );
  const throttleMs = Math.min(60_000, Math.max(5_000, range.stepMs));
  return useCoalescedFetch(`${code}|${fn ?? '*'}|${range.id}`, load, useThrottled(version, throttleMs));
}
