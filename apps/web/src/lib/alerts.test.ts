/// <reference types="node" />
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Alert } from '@edgeworker/schema';
import { formatChange, isAlert, mergeAlert } from './alerts.ts';

function alert(id: string, status: Alert['status'], createdAt: string, popCode = 'FRA'): Alert {
  return {
    id,
    type: 'regression',
    popCode,
    functionName: 'ssr-render',
    severity: 'critical',
    status,
    baselineMs: 100,
    currentMs: 250,
    changePct: 150,
    createdAt,
    updatedAt: createdAt,
    notifications: [],
  };
}

const A = alert('a', 'open', '2026-01-01T10:00:00Z');
const B = alert('b', 'open', '2026-01-01T11:00:00Z');

test('a new matching alert goes on top (newest first)', () => {
  const C = alert('c', 'open', '2026-01-01T12:00:00Z');
  assert.deepEqual(mergeAlert([B, A], C, { status: 'open' }).map((a) => a.id), ['c', 'b', 'a']);
});

test('an alert that changes state leaves a list filtered on the old state and updates an unfiltered one', () => {
  const ackA = { ...A, status: 'acknowledged' as const };
  assert.deepEqual(mergeAlert([B, A], ackA, { status: 'open' }).map((a) => a.id), ['b']);
  const all = mergeAlert([B, A], ackA, {});
  assert.equal(all.find((a) => a.id === 'a')?.status, 'acknowledged');
  assert.equal(all.length, 2);
  assert.deepEqual(mergeAlert([B], ackA, { status: 'acknowledged' }).map((a) => a.id), ['b', 'a']);
});

test('alerts of other POPs stay out of a POP list', () => {
  const other = alert('x', 'open', '2026-01-01T13:00:00Z', 'AMS');
  assert.deepEqual(mergeAlert([A], other, { popCode: 'FRA' }).map((a) => a.id), ['a']);
});

test('shape check and change formatting', () => {
  assert.equal(isAlert(A), true);
  assert.equal(isAlert({ ...A, severity: 'meh' }), false);
  assert.equal(isAlert(null), false);
  assert.equal(formatChange(150), '+150 %');
  assert.equal(formatChange(-4.25), '−4.3 %');
  assert.equal(formatChange(Number.NaN), '–');
});
