import { useCallback } from 'react';
import type { PopDetail } from '@edgeworker/schema';
import { api } from '../api/client';
import { useCoalescedFetch, type FetchState } from './useCoalescedFetch';
import { useThrottled } from './useThrottled';

/** How often at most the open drill-down refreshes its aggregates on live updates. */
const REFRESH_MS = 3_000;

export function usePopDetail(code: string, window: string, version: number): FetchState<PopDetail> {
  const load = useCallback((signal: AbortSignal) => api.pop(code, window, signal), [code, window]);
  return useCoalescedFetch(`${code}|${window}`, load, useThrottled(version, REFRESH_MS));
}
