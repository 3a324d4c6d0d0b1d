/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HeatmapEntry, PopStatus } from '@edgeworker/schema';
import { DEFAULT_SORT, facets, filterPops, nextSort, parseSort, sortPops, visibleRows } from './popTable.ts';

function pop(popCode: string, status: PopStatus, mean: number | null, extra: Partial<HeatmapEntry> = {}): HeatmapEntry {
  return {
    popCode,
    city: popCode,
    country: 'DE',
    tier: 'tier1',
    lat: 0,
    lon: 0,
    coldStartTime: mean,
    p95: mean === null ? null : mean * 2,
    samples: mean === null ? 0 : 10,
    status,
    ...extra,
  };
}

const ENTRIES = [
  pop('AAA', 'healthy', 50),
  pop('BBB', 'critical', 500),
  pop('CCC', 'no_data', null, { country: 'US', tier: 'tier3' }),
  pop('DDD', 'warning', 250, { country: 'US' }),
  pop('EEE', 'critical', 900, { tier: 'tier2' }),
  pop('FFF', 'healthy', 120, { country: 'FR', tier: 'tier2' }),
];

const codes = (xs: HeatmapEntry[]) => xs.map((e) => e.popCode);

test('worst first by default: critical, warning, healthy, no data; slowest first within a status', () => {
  assert.deepEqual(codes(sortPops(ENTRIES, DEFAULT_SORT)), ['EEE', 'BBB', 'DDD', 'FFF', 'AAA', 'CCC']);
});

test('numeric columns keep POPs without data last in both directions', () => {
  assert.deepEqual(codes(sortPops(ENTRIES, { key: 'mean', dir: 'desc' })), ['EEE', 'BBB', 'DDD', 'FFF', 'AAA', 'CCC']);
  assert.deepEqual(codes(sortPops(ENTRIES, { key: 'mean', dir: 'asc' })), ['AAA', 'FFF', 'DDD', 'BBB', 'EEE', 'CCC']);
});

test('text columns sort alphabetically with POP code as the tie-breaker', () => {
  assert.deepEqual(codes(sortPops(ENTRIES, { key: 'country', dir: 'asc' })), ['AAA', 'BBB', 'EEE', 'FFF', 'CCC', 'DDD']);
  assert.deepEqual(codes(sortPops(ENTRIES, { key: 'pop', dir: 'desc' })), ['FFF', 'EEE', 'DDD', 'CCC', 'BBB', 'AAA']);
});

test('sorting does not mutate its input', () => {
  const copy = [...ENTRIES];
  sortPops(ENTRIES, { key: 'pop', dir: 'desc' });
  assert.deepEqual(ENTRIES, copy);
});

test('filters combine tier, country and status', () => {
  assert.deepEqual(codes(filterPops(ENTRIES, { tier: null, country: 'US', status: null })), ['CCC', 'DDD']);
  assert.deepEqual(codes(filterPops(ENTRIES, { tier: 'tier2', country: null, status: 'critical' })), ['EEE']);
  assert.deepEqual(codes(filterPops(ENTRIES, { tier: 'tier1', country: 'FR', status: null })), []);
  assert.equal(filterPops(ENTRIES, { tier: null, country: null, status: null }).length, ENTRIES.length);
});

test('clicking a column: new column in its natural direction, same column flips', () => {
  assert.deepEqual(nextSort(DEFAULT_SORT, 'pop'), { key: 'pop', dir: 'asc' });
  assert.deepEqual(nextSort(DEFAULT_SORT, 'mean'), { key: 'mean', dir: 'desc' });
  assert.deepEqual(nextSort({ key: 'mean', dir: 'desc' }, 'mean'), { key: 'mean', dir: 'asc' });
  assert.deepEqual(parseSort('-samples'), { key: 'samples', dir: 'desc' });
  assert.deepEqual(parseSort('nonsense'), DEFAULT_SORT);
});

test('facets list distinct tiers and countries, sorted', () => {
  assert.deepEqual(facets(ENTRIES), { tiers: ['tier1', 'tier2', 'tier3'], countries: ['DE', 'FR', 'US'] });
});

test('windowing renders only the rows in view plus overscan, even for 1,000 POPs', () => {
  // 1,000 rows of 30 px in a 300 px viewport: about 11 rows in view, plus 8 overscan each side
  assert.deepEqual(visibleRows(0, 300, 30, 1000, 8), { start: 0, end: 19 });
  assert.deepEqual(visibleRows(15_000, 300, 30, 1000, 8), { start: 492, end: 519 });
  // scrolled past the end (a shrinking list): still a valid, non-empty window at the bottom
  const end = visibleRows(1_000_000, 300, 30, 1000, 8);
  assert.ok(end.start < end.end && end.end === 1000);
  assert.deepEqual(visibleRows(0, 300, 30, 0), { start: 0, end: 0 });
  assert.deepEqual(visibleRows(-50, 300, 30, 5, 8), { start: 0, end: 5 });
});
