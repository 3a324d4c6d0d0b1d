import { useCallback } from 'react';
import type { Overview } from '@edgeworker/schema';
import { api } from '../api/client';
import { LIVE_WINDOW } from '../lib/ranges';
import { useCoalescedFetch, type FetchState } from './useCoalescedFetch';
import { useThrottled } from './useThrottled';

/** Longer windows change slowly and cost the server more: refetch them at most this often on live updates. */
const REFRESH_MS = 10_000;

/**
 * The overview for a window other than the live one: fetched over REST, refetched (coalesced,
 * throttled) when live data arrives. For the live window nothing is fetched: the WebSocket has it.
 */
export function useWindowOverview(window: string, version: number): FetchState<Overview> {
  const load = useCallback((signal: AbortSignal) => api.overview(window, signal), [window]);
  return useCoalescedFetch(window === LIVE_WINDOW ? null : window, load, useThrottled(version, REFRESH_MS));
}
