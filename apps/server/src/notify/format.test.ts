import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardUrl, formatChange, formatMs, ownBaseUrl, summaryLine } from './format.ts';
import { sampleAlert } from './test-receivers.ts';

test('summary lines for the inbox and the Slack fallback', () => {
  assert.equal(summaryLine('opened', sampleAlert()), '[CRITICAL] Regression: ssr-render at FRA +85% (120 → 222 ms)');
  assert.equal(summaryLine('opened', sampleAlert({ severity: 'warning', currentMs: 150.4, changePct: 25.33 })), '[WARNING] Regression: ssr-render at FRA +25% (120 → 150 ms)');
  assert.equal(summaryLine('resolved', sampleAlert()), '[RESOLVED] Regression: ssr-render at FRA +85% (120 → 222 ms)');
  assert.equal(formatChange(-3.4), '-3%');
  assert.equal(formatMs(42.25), '42.3');
});

test('no_data summary lines name the silent scope: a series, a POP, a function at every POP, the pipeline', () => {
  const silent = (popCode: string, functionName: string) => sampleAlert({ type: 'no_data', popCode, functionName, baselineMs: 0, currentMs: 0, changePct: 0 });
  assert.equal(summaryLine('opened', silent('FRA', 'ssr-render')), '[CRITICAL] No data: ssr-render at FRA');
  assert.equal(summaryLine('opened', silent('FRA', '*')), '[CRITICAL] No data: every function at FRA');
  assert.equal(summaryLine('opened', silent('*', 'ssr-render')), '[CRITICAL] No data: ssr-render at every POP');
  assert.equal(summaryLine('resolved', silent('*', '*')), '[RESOLVED] No data: all POPs (ingest stopped)');
});

test('dashboard links: trailing slashes dropped, parameters encoded', () => {
  assert.equal(dashboardUrl('https://m.example.com/base//', { popCode: 'FRA', functionName: 'a b&c' }), 'https://m.example.com/base/?pop=FRA&function=a%20b%26c');
});

test('the server’s own URL: the bound port, localhost for a wildcard address, brackets for IPv6', () => {
  assert.equal(ownBaseUrl({ address: '127.0.0.1', port: 41234 }, '127.0.0.1', 0), 'http://127.0.0.1:41234');
  assert.equal(ownBaseUrl({ address: '0.0.0.0', port: 8080 }, '0.0.0.0', 8080), 'http://localhost:8080');
  assert.equal(ownBaseUrl({ address: '::1', port: 8080 }, '::1', 8080), 'http://[::1]:8080');
  assert.equal(ownBaseUrl(null, '127.0.0.1', 8080), 'http://127.0.0.1:8080', 'before listen: the configured address');
});
