import { useCallback } from 'react';
import type { HeatmapEntry } from '@edgeworker/schema';
import { api, type Fetched } from '../api/client';
import { useCoalescedFetch, type FetchState } from './useCoalescedFetch';

/** The heatmap for the window and function filter, refetched (coalesced) whenever `version` moves. */
export function useHeatmap(window: string, fn: string | null, version: number): FetchState<Fetched<HeatmapEntry[]>> {
  const load = useCallback((signal: AbortSignal) => api.heatmap(window, fn, signal), [window, fn]);
  return useCoalescedFetch(`${window}|${fn ?? '*'}`, load, version);
}
