/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_URL_STATE, parseUrlState, serialiseUrlState } from './urlState.ts';

test('the default view serialises to an empty query string', () => {
  assert.equal(serialiseUrlState(DEFAULT_URL_STATE), '');
  assert.deepEqual(parseUrlState(''), DEFAULT_URL_STATE);
});

test('every field survives a round trip, in a fixed parameter order', () => {
  const search = '?view=alerts&pop=FRA&range=7d&window=24h&function=ssr-render&tier=tier1&country=DE&status=critical&sort=pop&alerts=resolved';
  const s = parseUrlState(search);
  assert.deepEqual(s, {
    view: 'alerts',
    pop: 'FRA',
    range: '7d',
    window: '24h',
    fn: 'ssr-render',
    tier: 'tier1',
    country: 'DE',
    status: 'critical',
    sort: { key: 'pop', dir: 'asc' },
    alerts: 'resolved',
  });
  assert.equal(serialiseUrlState(s), search);
  // parameter order in the input does not matter
  assert.equal(serialiseUrlState(parseUrlState('?status=critical&pop=FRA')), '?pop=FRA&status=critical');
});

test('codes are normalised to upper case', () => {
  const s = parseUrlState('?pop=fra&country=de');
  assert.equal(s.pop, 'FRA');
  assert.equal(s.country, 'DE');
});

test('malformed or unknown values fall back to defaults instead of breaking the page', () => {
  const s = parseUrlState(
    '?view=nope&pop=<script>&range=2y&window=3w&function=a%20b&tier=' + 'x'.repeat(80) + '&country=Germany&status=dead&sort=-bogus&alerts=all',
  );
  assert.deepEqual(s, DEFAULT_URL_STATE);
});

test('a descending sort other than the default is kept', () => {
  const s = parseUrlState('?sort=-p95');
  assert.deepEqual(s.sort, { key: 'p95', dir: 'desc' });
  assert.equal(serialiseUrlState(s), '?sort=-p95');
});
