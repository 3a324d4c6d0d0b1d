import type { FunctionInfo } from '@edgeworker/schema';
import { api } from '../api/client';
import { useCoalescedFetch, type FetchState } from './useCoalescedFetch';
import { useThrottled } from './useThrottled';

const load = (signal: AbortSignal) => api.functions(signal);

/** Refresh the catalog at most this often (it changes rarely; new functions show up in data). */
const REFRESH_MS = 30_000;

/** The function catalog: loaded at start, then refreshed (throttled) as new data lands. */
export function useFunctions(version: number): FetchState<FunctionInfo[]> {
  return useCoalescedFetch('functions', load, useThrottled(version, REFRESH_MS));
}
