/**
 * The POP table's pure logic: filters, sorting (worst first by default) and the window of
 * rows to render for a scroll position, so 1,000 POPs cost a few dozen DOM rows.
 */
import type { HeatmapEntry, PopStatus } from '@edgeworker/schema';
import { STATUS_ORDER, safeStatus } from './status.ts';

export interface PopFilters {
  tier: string | null;
  country: string | null;
  status: PopStatus | null;
}

export function filterPops(entries: readonly HeatmapEntry[], f: PopFilters): HeatmapEntry[] {
  return entries.filter(
    (e) =>
      (f.tier === null || e.tier === f.tier) &&
      (f.country === null || e.country === f.country) &&
      (f.status === null || safeStatus(e.status) === f.status),
  );
}

export const SORT_KEYS = ['status', 'pop', 'country', 'tier', 'mean', 'p95', 'samples'] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 'asc' | 'desc';
export interface PopSort {
  key: SortKey;
  dir: SortDir;
}

/** Worst first: critical before warning before healthy before no data, slowest first within each. */
export const DEFAULT_SORT: PopSort = { key: 'status', dir: 'desc' };

/** The direction a column starts in when first clicked: numbers and status worst first, text A→Z. */
export function defaultDir(key: SortKey): SortDir {
  return key === 'pop' || key === 'country' || key === 'tier' ? 'asc' : 'desc';
}

/** Clicking a column: same column flips, another column starts in its natural direction. */
export function nextSort(current: PopSort, key: SortKey): PopSort {
  if (current.key === key) return { key, dir: current.dir === 'asc' ? 'desc' : 'asc' };
  return { key, dir: defaultDir(key) };
}

/** `-mean` (descending) or `pop` (ascending); anything unknown gives the default. */
export function parseSort(text: string | null): PopSort {
  if (!text) return DEFAULT_SORT;
  const desc = text.startsWith('-');
  const key = desc ? text.slice(1) : text;
  return (SORT_KEYS as readonly string[]).includes(key) ? { key: key as SortKey, dir: desc ? 'desc' : 'asc' } : DEFAULT_SORT;
}

export function serialiseSort(s: PopSort): string {
  return s.dir === 'desc' ? `-${s.key}` : s.key;
}

const rank = (e: HeatmapEntry) => STATUS_ORDER.indexOf(safeStatus(e.status));

/** Compares two possibly-missing numbers; missing values always sort last, whatever the direction. */
function byNumber(a: number | null, b: number | null, dir: SortDir): number {
  const an = typeof a === 'number' && Number.isFinite(a);
  const bn = typeof b === 'number' && Number.isFinite(b);
  if (!an || !bn) return an === bn ? 0 : an ? -1 : 1;
  return dir === 'asc' ? a - b : b - a;
}

function byText(a: string, b: string, dir: SortDir): number {
  const c = a.localeCompare(b);
  return dir === 'asc' ? c : -c;
}

export function sortPops(entries: readonly HeatmapEntry[], sort: PopSort): HeatmapEntry[] {
  const { key, dir } = sort;
  const primary = (a: HeatmapEntry, b: HeatmapEntry): number => {
    switch (key) {
      case 'status': {
        const r = dir === 'desc' ? rank(b) - rank(a) : rank(a) - rank(b);
        return r !== 0 ? r : byNumber(a.coldStartTime, b.coldStartTime, dir);
      }
      case 'pop':
        return byText(a.popCode, b.popCode, dir);
      case 'country':
        return byText(a.country, b.country, dir);
      case 'tier':
        return byText(a.tier, b.tier, dir);
      case 'mean':
        return byNumber(a.coldStartTime, b.coldStartTime, dir);
      case 'p95':
        return byNumber(a.p95, b.p95, dir);
      case 'samples':
        return byNumber(a.samples, b.samples, dir);
    }
  };
  // ties broken by POP code so the order is stable between live refreshes
  return [...entries].sort((a, b) => primary(a, b) || a.popCode.localeCompare(b.popCode));
}

/** Distinct tiers and countries present, sorted, for the filter menus. */
export function facets(entries: readonly HeatmapEntry[]): { tiers: string[]; countries: string[] } {
  const tiers = new Set<string>();
  const countries = new Set<string>();
  for (const e of entries) {
    if (e.tier) tiers.add(e.tier);
    if (e.country) countries.add(e.country);
  }
  return { tiers: [...tiers].sort(), countries: [...countries].sort() };
}

/**
 * Rows [start, end) to render for a scroll position, with `overscan` extra rows above and
 * below so fast scrolling does not show blanks.
 */
export function visibleRows(
  scrollTop: number,
  viewportHeight: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): { start: number; end: number } {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const shown = Math.ceil(Math.max(0, viewportHeight) / rowHeight) + 1;
  const start = Math.max(0, Math.min(count - 1, first) - overscan);
  const end = Math.min(count, first + shown + overscan);
  return { start, end: Math.max(start, end) };
}
