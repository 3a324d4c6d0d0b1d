/** Alert routes, the overview count, /health and live alerts, all through the real app. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { Alert } from '@edgeworker/schema';
import { getJson, startTestApp } from '../testing/start-app.ts';
import type { RegressionFinding } from './types.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const finding = (over: Partial<RegressionFinding> = {}): RegressionFinding => ({
  popCode: 'FRA', functionName: 'ssr-render', severity: 'warning', baselineMs: 100, currentMs: 150, changePct: 50, ...over,
});

async function post(url: string, headers: Record<string, string> = {}) {
  // The dashboard sends an empty JSON object; plain curl sends nothing. Both work.
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });
  return { status: res.status, body: (await res.json()) as any };
}

describe('alert routes on the real app', () => {
  it('lists with filters and cursor pagination, newest first, with the total', async (t) => {
    const { app, url } = await startTestApp(t);
    const alerts = app.services.alerts;
    const created: Alert[] = [];
    for (const [pop, fn] of [['FRA', 'ssr-render'], ['AMS', 'ssr-render'], ['FRA', 'image-resize'], ['NRT', 'auth-check'], ['SYD', 'ssr-render']] as const) {
      created.push((await alerts.raise(finding({ popCode: pop, functionName: fn }))).alert);
      await sleep(2); // distinct createdAt on the real clock
    }
    await alerts.acknowledge(created[1]!.id);
    await alerts.resolve(created[2]!.id, 'detector');

    const all = await getJson(`${url}/api/alerts`);
    assert.equal(all.status, 200);
    assert.equal(all.body.total, 5);
    assert.equal(all.body.next, null);
    assert.deepEqual(all.body.alerts.map((a: Alert) => a.id), created.map((a) => a.id).reverse());

    const open = await getJson(`${url}/api/alerts?status=open`);
    assert.deepEqual(open.body.alerts.map((a: Alert) => a.popCode), ['SYD', 'NRT', 'FRA']);
    const fra = await getJson(`${url}/api/alerts?pop=FRA`);
    assert.equal(fra.body.total, 2);
    const fn = await getJson(`${url}/api/alerts?function=ssr-render&status=acknowledged`);
    assert.deepEqual(fn.body.alerts.map((a: Alert) => a.popCode), ['AMS']);

    const p1 = await getJson(`${url}/api/alerts?limit=2`);
    assert.equal(p1.body.alerts.length, 2);
    assert.equal(p1.body.total, 5);
    const p2 = await getJson(`${url}/api/alerts?limit=2&cursor=${encodeURIComponent(p1.body.next)}`);
    const p3 = await getJson(`${url}/api/alerts?limit=2&cursor=${encodeURIComponent(p2.body.next)}`);
    assert.equal(p3.body.next, null);
    assert.deepEqual([...p1.body.alerts, ...p2.body.alerts, ...p3.body.alerts].map((a: Alert) => a.id), all.body.alerts.map((a: Alert) => a.id));

    const one = await getJson(`${url}/api/alerts/${created[0]!.id}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, await alerts.get(created[0]!.id));
  });

  it('refuses bad filters, foreign cursors and unknown ids with clear errors', async (t) => {
    const { url } = await startTestApp(t);
    const badStatus = await getJson(`${url}/api/alerts?status=closed`);
    assert.equal(badStatus.status, 400);
    assert.equal(badStatus.body.code, 'bad_request');
    assert.match(badStatus.body.message, /status/);
    assert.equal((await getJson(`${url}/api/alerts?limit=0`)).status, 400);
    assert.equal((await getJson(`${url}/api/alerts?limit=501`)).status, 400);
    const cursor = await getJson(`${url}/api/alerts?cursor=abc`);
    assert.equal(cursor.status, 400);
    assert.equal(cursor.body.code, 'invalid_cursor');
    const missing = await getJson(`${url}/api/alerts/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'alert_not_found');
    assert.equal((await post(`${url}/api/alerts/nope/acknowledge`)).status, 404);
    assert.equal((await post(`${url}/api/alerts/nope/resolve`)).body.code, 'alert_not_found');
  });

  it('acknowledges and resolves over HTTP with 409 for impossible transitions, and counts open ones in the overview', async (t) => {
    const { app, url } = await startTestApp(t);
    const { alert } = await app.services.alerts.raise(finding());
    await app.services.alerts.raise(finding({ popCode: 'AMS' }));
    assert.equal((await getJson(`${url}/api/dashboard/overview`)).body.regressions, 2);

    const ack = await post(`${url}/api/alerts/${alert.id}/acknowledge`);
    assert.equal(ack.status, 200);
    assert.equal(ack.body.status, 'acknowledged');
    assert.ok(ack.body.acknowledgedAt);
    assert.equal((await post(`${url}/api/alerts/${alert.id}/acknowledge`)).body.code, 'alert_already_acknowledged');
    assert.equal((await getJson(`${url}/api/dashboard/overview`)).body.regressions, 2, 'acknowledged is still a regression');

    const res = await post(`${url}/api/alerts/${alert.id}/resolve`);
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'resolved');
    assert.equal(res.body.resolvedBy, 'operator');
    const again = await post(`${url}/api/alerts/${alert.id}/resolve`);
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'alert_already_resolved');
    assert.equal((await getJson(`${url}/api/dashboard/overview`)).body.regressions, 1);

    // No body at all (curl -X POST) is fine too.
    const other = (await app.services.alerts.list({ status: 'open' })).alerts[0]!;
    const bare = await fetch(`${url}/api/alerts/${other.id}/resolve`, { method: 'POST' });
    assert.equal(bare.status, 200);
  });

  it('guards acknowledge and resolve with API_TOKEN, but not reads', async (t) => {
    const { app, url } = await startTestApp(t, { API_TOKEN: 'sekret' });
    const { alert } = await app.services.alerts.raise(finding());
    const denied = await post(`${url}/api/alerts/${alert.id}/acknowledge`);
    assert.equal(denied.status, 401);
    assert.equal(denied.body.code, 'unauthorized');
    assert.equal((await post(`${url}/api/alerts/${alert.id}/resolve`, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await app.services.alerts.get(alert.id)).status, 'open', 'nothing changed');
    assert.equal((await getJson(`${url}/api/alerts`)).status, 200);
    assert.equal((await post(`${url}/api/alerts/${alert.id}/acknowledge`, { authorization: 'Bearer sekret' })).status, 200);
    assert.equal((await post(`${url}/api/alerts/${alert.id}/resolve`, { authorization: 'Token sekret' })).status, 200);
  });

  it('reports the alert store in /health', async (t) => {
    const { url } = await startTestApp(t);
    const health = await getJson(`${url}/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.components.alertStore.status, 'ok');
    assert.equal(health.body.components.alertStore.kind, 'embedded');
    assert.equal(typeof health.body.components.alertStore.latencyMs, 'number');
  });

  it('keeps alerts across a restart on the same DATA_DIR', async (t) => {
    const first = await startTestApp(t);
    const { alert } = await first.app.services.alerts.raise(finding());
    await first.app.close();
    const { buildApp } = await import('../app.ts');
    const again = await buildApp(first.config);
    try {
      assert.deepEqual(await again.services.alerts.get(alert.id), alert);
      assert.equal((await again.services.alerts.raise(finding({ currentMs: 190, changePct: 90 }))).created, false);
    } finally {
      // Before startTestApp's cleanup deletes DATA_DIR.
      await again.close();
    }
  });

  it('sends {type:"alert"} to every WebSocket client at every change, in order, and the new count after', async (t) => {
    const { app, url } = await startTestApp(t);
    const connect = async () => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
      t.after(() => ws.terminate());
      const messages: any[] = [];
      ws.on('message', (d) => messages.push(JSON.parse(String(d))));
      const deadline = Date.now() + 5000;
      while (!messages.some((m) => m.type === 'hello') && Date.now() < deadline) await sleep(10);
      assert.ok(messages.some((m) => m.type === 'hello'), 'connected');
      return messages;
    };
    const a = await connect();
    const b = await connect();
    const { alert } = await app.services.alerts.raise(finding());
    await app.services.alerts.raise(finding({ severity: 'critical', currentMs: 300, changePct: 200 }));
    await post(`${url}/api/alerts/${alert.id}/acknowledge`);
    await post(`${url}/api/alerts/${alert.id}/resolve`);
    const alertsOf = (ms: any[]) => ms.filter((m) => m.type === 'alert').map((m) => m.data as Alert);
    const deadline = Date.now() + 5000;
    while ((alertsOf(a).length < 4 || alertsOf(b).length < 4) && Date.now() < deadline) await sleep(10);
    for (const got of [alertsOf(a), alertsOf(b)]) {
      assert.deepEqual(got.map((x) => [x.id, x.status, x.severity]), [
        [alert.id, 'open', 'warning'],
        [alert.id, 'open', 'critical'],
        [alert.id, 'acknowledged', 'critical'],
        [alert.id, 'resolved', 'critical'],
      ]);
    }
    // The overview's count follows: a (coalesced) metrics_update with no regressions left.
    while (!a.some((m) => m.type === 'metrics_update' && m.data.regressions === 0) && Date.now() < deadline + 3000) await sleep(10);
    assert.equal(a.filter((m) => m.type === 'metrics_update').at(-1)?.data.regressions, 0);
  });
});
