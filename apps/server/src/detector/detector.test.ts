/**
 * The detector end to end in the real app: data written through /write (made by the
 * generator's model with an --inject style injection), passes run through
 * POST /api/detector/run on a pinned clock, alerts read through /api/alerts and the
 * WebSocket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { encodeBatch } from '@edgeworker/line-protocol';
import { FUNCTIONS, findPop } from '@edgeworker/pops';
import { createGenerator, createLatencyModel, parseInjection, sampleToPoint } from '@edgeworker/generator';
import type { Alert } from '@edgeworker/schema';
import { buildApp } from '../app.ts';
import { loadConfig } from '../config.ts';
import { getJson, line, startTestApp, write } from '../testing/start-app.ts';
import { startHttpReceiver, startSmtpCollector } from '../notify/test-receivers.ts';
import { waitFor } from '../testing/wait.ts';

const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0); // a whole minute: the first pass ends here
const POPS = ['FRA', 'AMS', 'LHR'].map((c) => findPop(c)!);

interface RunResult { evaluated: number; created: Alert[]; resolved: Alert[]; refreshed: number; rederived?: 'all' | { pops: string[] }; rederiveDeferred?: { owed: 'all' | number; until: string }; wander?: Record<string, { level: number; burst: number }> }

async function start(t: import('node:test').TestContext, env: Record<string, string> = {}) {
  const clock = { now: T0 };
  // A schedule that never fires during the test: the passes are the ones the test asks for.
  const { app, url, config } = await startTestApp(t, { DETECTOR_SCHEDULE: '0 0 1 1 *', DETECTOR_EARLY: 'off', ...env }, { now: () => clock.now });

  // 3 POPs x 5 functions, one sample each per 10 s; FRA/ssr-render x2 from 8 min before T0 for 9 min.
  const injection = parseInjection(`pops=FRA;functions=ssr-render;factor=2;start=${T0 - 8 * MIN};duration=9m`, T0);
  let genNow = T0 - 70 * MIN;
  const generator = createGenerator({
    pops: POPS,
    functions: FUNCTIONS,
    intervalMs: 10_000,
    model: createLatencyModel({ seed: 42, injections: [injection], spikeProbability: 0 }),
    now: () => genNow,
    onBatch: () => {},
  });
  /** Writes samples up to (not including) `untilMs` through /write and moves the clock there. */
  async function writeUntil(untilMs: number, extraLines: string[] = []) {
    const samples = [];
    while (genNow < untilMs) {
      samples.push(...generator.tick());
      genNow += 10_000;
    }
    const body = [encodeBatch(samples.map(sampleToPoint)), ...extraLines].join('\n');
    const res = await write(url, body, { precision: 'ns' });
    assert.equal(res.status, 204, JSON.stringify(res.json));
    clock.now = untilMs;
  }
  async function run(): Promise<RunResult> {
    const res = await fetch(`${url}/api/detector/run`, { method: 'POST', headers: config.apiToken ? { authorization: `Bearer ${config.apiToken}` } : {} });
    assert.equal(res.status, 200);
    return (await res.json()) as RunResult;
  }
  return { url, app, writeUntil, run, clock };
}

test('a sustained shift on one (POP, function) is one alert within two passes, on the WebSocket, by e-mail, on Slack and at the webhook; spikes and other series make none; it resolves itself', async (t) => {
  // Real receivers: an SMTP server and HTTP endpoints standing in for Slack and a webhook consumer.
  const smtp = await startSmtpCollector(t);
  const webhook = await startHttpReceiver(t);
  const slack = await startHttpReceiver(t);
  const { url, writeUntil, run } = await start(t, {
    SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'oncall@example.com', ALERT_WEBHOOK_URL: webhook.url, SLACK_WEBHOOK_URL: slack.url, PUBLIC_URL: 'https://monitor.example.com',
  });
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  const alertMessages: Alert[] = [];
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as { type: string; data: Alert };
    if (msg.type === 'alert') alertMessages.push(msg.data);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  t.after(() => ws.close());

  // A single huge spike on LHR/ssr-render inside the recent window (ns precision, as the generator writes).
  const spike = `${line({ pop: 'LHR', fn: 'ssr-render', ms: 5000, t: T0 - 3 * MIN + 5000 })}`.replace(/ (\d+)$/, (_m, t) => ` ${BigInt(t) * 1_000_000n}`);
  await writeUntil(T0, [spike]);

  const first = await run();
  assert.equal(first.evaluated, 15, 'every series has enough data');
  assert.equal(first.rederived, 'all', 'the first pass re-derives, and the answer says so');
  await writeUntil(T0 + MIN);
  const second = await run();
  assert.equal(second.rederived, undefined, 'the next one reads on');
  const created = [...first.created, ...second.created];
  assert.equal(created.length, 1, `one alert within two passes, got ${JSON.stringify(created)}`);
  const alert = created[0]!;
  assert.equal(alert.popCode, 'FRA');
  assert.equal(alert.functionName, 'ssr-render');
  assert.equal(alert.status, 'open');
  assert.ok(alert.changePct > 50, `change ${alert.changePct} %`);

  const open = await getJson<{ alerts: Alert[]; total: number }>(`${url}/api/alerts?status=open`);
  assert.equal(open.body.total, 1);
  // The dashboard hears about it at once.
  await waitFor(() => alertMessages.some((a) => a.id === alert.id), 10_000, 'the alert on the WebSocket');
  assert.ok(alertMessages.some((a) => a.id === alert.id && a.status === 'open'), 'alert arrived on the WebSocket');

  // Notified once on open, on every channel.
  const [mail] = await smtp.waitFor(1);
  assert.equal(mail!.to[0], 'oncall@example.com');
  assert.match(mail!.subject, /Regression: ssr-render at FRA \+\d+%/);
  assert.match(mail!.html, /https:\/\/monitor\.example\.com\/\?pop=FRA&amp;function=ssr-render/);
  const [hook] = await webhook.waitFor(1);
  const hookBody = JSON.parse(hook!.body) as { event: string; alert: Alert };
  assert.equal(hookBody.event, 'opened');
  assert.equal(hookBody.alert.id, alert.id);
  const [slackMsg] = await slack.waitFor(1);
  assert.ok(Array.isArray((JSON.parse(slackMsg!.body) as { blocks: unknown[] }).blocks), 'a Block Kit message');

  // The injection ended at T0 + 1 min. Not resolved at once (hysteresis), but by itself once back for resolveAfter (10 min).
  let resolvedAt: number | null = null;
  for (let minute = 2; minute <= 14 && resolvedAt === null; minute++) {
    await writeUntil(T0 + minute * MIN);
    const r = await run();
    assert.deepEqual(r.created, [], `no new alert at minute ${minute}`);
    if (r.resolved.length > 0) {
      assert.equal(r.resolved[0]!.id, alert.id);
      assert.equal(r.resolved[0]!.resolvedBy, 'detector');
      resolvedAt = minute;
    }
  }
  assert.ok(resolvedAt !== null, 'resolved within 13 minutes of the injection ending');
  assert.ok(resolvedAt >= 1 + 5, `not before the series was back for a while (resolved at minute ${resolvedAt})`);
  const all = await getJson<{ alerts: Alert[]; total: number }>(`${url}/api/alerts`);
  assert.equal(all.body.total, 1, 'no other series ever alerted');
  assert.equal(all.body.alerts[0]!.status, 'resolved');
  await waitFor(() => alertMessages.some((a) => a.status === 'resolved'), 10_000, 'the resolution on the WebSocket');
  assert.ok(alertMessages.some((a) => a.id === alert.id && a.status === 'resolved'), 'resolution arrived on the WebSocket');
  // Notified once more on resolve, not on the passes in between.
  const mails = await smtp.waitFor(2);
  assert.match(mails[1]!.subject, /^\[RESOLVED\]/);
  const hooks = await webhook.waitFor(2);
  assert.equal((JSON.parse(hooks[1]!.body) as { event: string }).event, 'resolved');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(smtp.mails.length, 2);
  assert.equal(webhook.requests.length, 2);
  assert.equal(slack.requests.length, 2);
  // Each channel's outcome is recorded on the alert.
  const stored = (await getJson<Alert>(`${url}/api/alerts/${alert.id}`)).body;
  assert.deepEqual(stored.notifications.map((n) => `${n.channel}:${n.event}:${n.ok}`).sort(), [
    'email:opened:true', 'email:resolved:true', 'slack:opened:true', 'slack:resolved:true', 'webhook:opened:true', 'webhook:resolved:true',
  ]);
});

test('POST /api/detector/run needs the API token when one is set; /health shows the detector', async (t) => {
  const { url, run } = await start(t, { API_TOKEN: 'secret' });
  const denied = await fetch(`${url}/api/detector/run`, { method: 'POST' });
  assert.equal(denied.status, 401);
  assert.equal(((await denied.json()) as { code: string }).code, 'unauthorized');
  const empty = await run();
  assert.equal(empty.evaluated, 0);
  assert.deepEqual(empty.created, []);
  // The functions' wander comes over HTTP (no function has the history for it yet).
  assert.deepEqual(empty.wander, {});
  const health = await getJson<{ components: Record<string, Record<string, unknown>> }>(`${url}/health`);
  const d = health.body.components.detector!;
  assert.equal(d.status, 'ok');
  assert.equal(d.schedule, '0 0 1 1 *');
  assert.equal(d.early, null, 'DETECTOR_EARLY=off');
  assert.equal(typeof d.nextRunAt, 'string');
  assert.equal(d.leader, true);
  assert.equal((d.standby as { mode: string }).mode, 'warm');
  assert.equal(typeof (d.standby as { fedUntil: string | null }).fedUntil, 'string');
  assert.equal((d.lastRun as { ok: boolean; evaluated: number }).ok, true);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /edgeworker_detector_passes_total\{result="ok"\} 1/);
});

test('DETECTOR_EARLY: once this replica has led a pass, the early looks run on their own schedule; /health names it and /metrics counts them', async (t) => {
  const { url, writeUntil, run } = await start(t, { DETECTOR_EARLY: '* * * * * *' });
  const looks = async () => Number((await (await fetch(`${url}/metrics`)).text()).match(/edgeworker_detector_early_looks_total\{result="ok"\} (\d+)/)?.[1]);
  // Before any pass there is nothing to look at: the looks do not run (nor count).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(await looks(), 0);
  await writeUntil(T0);
  await run();
  await waitFor(async () => (await looks()) >= 1, 5000, "an early look after the pass");
  const health = await getJson<{ components: Record<string, Record<string, unknown>> }>(`${url}/health`);
  assert.equal(health.body.components.detector!.early, '* * * * * *');
  assert.match(await (await fetch(`${url}/metrics`)).text(), /edgeworker_detector_early_look_duration_seconds_count [1-9]/);
});

test('late data that keeps coming: the budget defers its re-derive, and the answer, /health and /metrics say what is owed and until when', async (t) => {
  const { url, writeUntil, run } = await start(t);
  await writeUntil(T0);
  assert.equal((await run()).rederived, 'all');
  // Each minute, an agent of every POP replays samples of 30 minutes back through /write (announced with their POPs).
  const got: RunResult[] = [];
  for (let k = 1; k <= 3; k++) {
    await writeUntil(T0 + k * MIN);
    const replay = POPS.map((p) => line({ pop: p.code, ms: 50, t: T0 - 30 * MIN + k * 1000 })).join('\n');
    assert.equal((await write(url, replay)).status, 204);
    got.push(await run());
  }
  // All three POPs: a charge of 1 each time; the budget of 2 refills one per 8 minutes.
  assert.deepEqual(got[0]!.rederived, { pops: ['AMS', 'FRA', 'LHR'] });
  assert.deepEqual(got[1]!.rederived, { pops: ['AMS', 'FRA', 'LHR'] });
  assert.equal(got[2]!.rederived, undefined);
  const until = new Date(T0 + 3 * MIN + 6 * MIN).toISOString(); // 0.25 held, 0.75 to refill
  assert.deepEqual(got[2]!.rederiveDeferred, { owed: 3, until }, 'the answer says it (a field missing from the schema would be dropped)');
  const d = (await getJson<{ components: Record<string, Record<string, unknown>> }>(`${url}/health`)).body.components.detector!;
  assert.deepEqual((d.lastRun as { rederiveDeferred: unknown }).rederiveDeferred, { owed: 3, until });
  assert.deepEqual(d.lateData, { owed: 3, budget: 0.25, deferredUntil: until });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /edgeworker_detector_rederives_total\{kind="all"\} 1\n/);
  assert.match(metrics, /edgeworker_detector_rederives_total\{kind="pops"\} 2\n/);
  assert.match(metrics, /edgeworker_detector_rederive_owed\{kind="pops"\} 3\n/);
  assert.match(metrics, /edgeworker_detector_rederive_owed\{kind="all"\} 0\n/);
  assert.match(metrics, /edgeworker_detector_rederive_budget 0.25\n/);
  assert.match(metrics, /edgeworker_detector_rederive_deferred_passes_total 1\n/);
});

test('DETECTOR=off: no route, health says off', async (t) => {
  const { url } = await start(t, { DETECTOR: 'off' });
  assert.equal((await fetch(`${url}/api/detector/run`, { method: 'POST' })).status, 404);
  const health = await getJson<{ components: Record<string, { status: string }> }>(`${url}/health`);
  assert.equal(health.body.components.detector!.status, 'off');
});

test('a schedule that parses but never fires (30 February) stops start-up instead of never running', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ewm-detector-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent', WEB_DIST_DIR: join(dataDir, 'no-web'), DETECTOR_SCHEDULE: '0 0 30 2 *' });
  const app = await buildApp(config);
  t.after(() => app.close());
  await assert.rejects(app.listen({ host: '127.0.0.1', port: 0 }), /DETECTOR_SCHEDULE=0 0 30 2 \* never fires/);
});
