import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startTestApp } from '../testing/start-app.ts';

const RULES = fileURLToPath(new URL('../../../../docs/alerts.yml', import.meta.url));

it("docs/alerts.yml uses only metric names the server exports", async (t) => {
  const { url } = await startTestApp(t);
  const text = await (await fetch(`${url}/metrics`)).text();
  const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
  const used = new Set([...readFileSync(RULES, 'utf8').matchAll(/\b(edgeworker_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(count|bucket|sum)$/, '')));
  assert.ok(used.size >= 7, `the rules use ${used.size} metrics`);
  for (const name of used) assert.ok(exported.has(name), `${name} is used in docs/alerts.yml but not exported on /metrics`);
});

it('the counters docs/alerts.yml takes increase() of exist at 0 from the start (a series born at 1 has no increase)', async (t) => {
  // A webhook that is never called: nothing is sent or failed yet.
  const { url } = await startTestApp(t, { ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hook', DETECTOR_SCHEDULE: '0 0 1 1 *', DETECTOR_EARLY: 'off' });
  const text = await (await fetch(`${url}/metrics`)).text();
  for (const series of [
    'edgeworker_notifications_total{channel="webhook",result="failed"} 0',
    'edgeworker_notifications_total{channel="webhook",result="sent"} 0',
    'edgeworker_detector_passes_total{result="ok"} 0',
    'edgeworker_detector_passes_total{result="error"} 0',
    'edgeworker_ws_clients_refused_total 0',
  ]) {
    assert.ok(text.split('\n').includes(series), `${series} is exported before any event`);
  }
});
