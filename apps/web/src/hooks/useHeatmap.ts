import { useCallback } from 'react';
import type { HeatmapEntry } from '@edgeworker/schema';
import { api, type Fetched } from '../api/client';
import { useCoalescedFetch, type FetchState } from './useCoalescedFetch';

/**
 * The heatmap for the window and function filter, refetched (coalesced) whenever `version` moves.
 * `data` is only ever this window's and function's: while a new window or function loads (a 7 d
 * answer can take seconds), `data` is null rather than the previous one's numbers under the new
 * caption.
 */
export function useHeatmap(window: string, fn: string | null, version: number): FetchState<Fetched<HeatmapEntry[]>> {
  const load = useCallback((signal: AbortSignal) => api.heatmap(window, fn, signal), [window, fn]);
  const key = `${window}|${fn ?? '*'}`;
  const state = useCoalescedFetch(key, load, version);
  return state.dataKey === key ? state : { ...state, data: null, dataKey: null };
}
