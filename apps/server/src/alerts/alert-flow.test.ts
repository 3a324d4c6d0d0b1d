/**
 * The whole alert path on the real app: a raised alert reaches a real webhook
 * receiver, the outcome lands on the alert and on the WebSocket; an alert-store
 * outage degrades /health and the overview instead of failing them.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { Alert } from '@edgeworker/schema';
import { getJson, startTestApp } from '../testing/start-app.ts';
import { startHttpReceiver } from '../notify/test-receivers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const finding = { popCode: 'GRU', functionName: 'ssr-render', severity: 'critical' as const, baselineMs: 120, currentMs: 480, changePct: 300 };

it('notifies a real webhook on open and on resolve only, and records and publishes each outcome', async (t) => {
  const hook = await startHttpReceiver(t);
  const { app, url } = await startTestApp(t, { ALERT_WEBHOOK_URL: hook.url });
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  t.after(() => ws.terminate());
  const live: Alert[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d));
    if (m.type === 'alert') live.push(m.data);
  });
  await new Promise((r) => ws.once('open', r));

  const { alert } = await app.services.alerts.raise(finding);
  await app.services.alerts.raise({ ...finding, currentMs: 500, changePct: 316.7 }); // a refresh: no notification
  await hook.waitFor(1, 5000);
  await app.services.alerts.idle();
  const opened = await app.services.alerts.get(alert.id);
  assert.deepEqual(opened.notifications.map((o) => [o.channel, o.event, o.ok]), [['webhook', 'opened', true]]);

  const res = await fetch(`${url}/api/alerts/${alert.id}/resolve`, { method: 'POST' });
  assert.equal(res.status, 200);
  await hook.waitFor(2, 5000);
  await app.services.alerts.idle();
  assert.equal(hook.requests.length, 2, 'open and resolve, not the refresh');
  const done = await app.services.alerts.get(alert.id);
  assert.deepEqual(done.notifications.map((o) => [o.channel, o.event, o.ok]), [['webhook', 'opened', true], ['webhook', 'resolved', true]]);

  const deadline = Date.now() + 5000;
  while (live.filter((a) => a.notifications.length === 2).length === 0 && Date.now() < deadline) await sleep(10);
  assert.deepEqual(live.at(-1), done, 'the dashboards end with the stored alert, outcomes included');
});

it('degrades /health and keeps the overview up when the alert store is down', async (t) => {
  const { app, url } = await startTestApp(t);
  await app.services.alerts.raise(finding);
  assert.equal((await getJson(`${url}/api/dashboard/overview`)).body.regressions, 1);
  await app.services.alertStore.close(); // the store goes away under the running app

  const overview = await getJson(`${url}/api/dashboard/overview`);
  assert.equal(overview.status, 200);
  assert.equal(overview.body.regressions, 1, 'the last known count');
  const health = await getJson(`${url}/health`);
  assert.equal(health.status, 200, 'the alert store is not required to serve metrics');
  assert.equal(health.body.status, 'degraded');
  assert.equal(health.body.components.alertStore.status, 'down');
  assert.match(health.body.components.alertStore.error, /alert store is closed/);
  const list = await getJson(`${url}/api/alerts`);
  assert.equal(list.status, 500);
  assert.equal(list.body.code, 'internal_error');
});
