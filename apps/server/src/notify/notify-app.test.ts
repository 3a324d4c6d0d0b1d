import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, startTestApp } from '../testing/start-app.ts';
import { sampleAlert, startHttpReceiver, startSmtpCollector } from './test-receivers.ts';

test('/health shows notify as not_configured when no channel is set', async (t) => {
  const { url, app } = await startTestApp(t);
  assert.deepEqual(app.services.notifier.channels, []);
  const { body } = await getJson<{ components: Record<string, { status: string }> }>(`${url}/health`);
  assert.equal(body.components.notify?.status, 'not_configured');
});

test('the app builds the configured channels; links use its own address; /health shows the last outcome per channel', async (t) => {
  const hook = await startHttpReceiver(t);
  const smtp = await startSmtpCollector(t);
  const { url, app } = await startTestApp(t, { ALERT_WEBHOOK_URL: hook.url, SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'oncall@example.com' });
  const notifier = app.services.notifier;
  assert.deepEqual(notifier.channels, ['email', 'webhook']);

  const before = await getJson<{ components: Record<string, { status: string; channels: string[] }> }>(`${url}/health`);
  assert.equal(before.body.components.notify?.status, 'ok');
  assert.deepEqual(before.body.components.notify?.channels, ['email', 'webhook']);

  const outcomes = await notifier.notify('opened', sampleAlert());
  assert.deepEqual(outcomes.map((o) => [o.channel, o.ok]), [['email', true], ['webhook', true]]);
  const payload = JSON.parse(hook.requests[0]!.body) as { dashboardUrl: string };
  assert.equal(payload.dashboardUrl, `${url}/?pop=FRA&function=ssr-render`, 'without PUBLIC_URL the link is the server itself');
  assert.ok(smtp.mails[0]!.text.includes(`${url}/?pop=FRA&function=ssr-render`));

  const after = await getJson<{ components: Record<string, { status: string; last: Record<string, { ok: boolean; event: string }> }> }>(`${url}/health`);
  assert.equal(after.status, 200);
  assert.equal(after.body.components.notify?.last.webhook?.ok, true);
  assert.equal(after.body.components.notify?.last.email?.event, 'opened');
});

test('PUBLIC_URL sets the link base; a failing channel degrades /health without failing it', async (t) => {
  const hook = await startHttpReceiver(t, () => ({ status: 403, body: 'forbidden' }));
  const { url, app } = await startTestApp(t, { ALERT_WEBHOOK_URL: hook.url, PUBLIC_URL: 'https://monitor.example.com' });
  const [o] = await app.services.notifier.notify('opened', sampleAlert());
  assert.equal(o!.ok, false);
  assert.equal((JSON.parse(hook.requests[0]!.body) as { dashboardUrl: string }).dashboardUrl, 'https://monitor.example.com/?pop=FRA&function=ssr-render');
  const res = await getJson<{ status: string; components: Record<string, { status: string; failing: string[] }> }>(`${url}/health`);
  assert.equal(res.status, 200, 'notifications are not a required component');
  assert.equal(res.body.components.notify?.status, 'degraded');
  assert.deepEqual(res.body.components.notify?.failing, ['webhook']);
  // what docs/alerts.yml watches
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^edgeworker_notifications_total\{channel="webhook",result="failed"\} 1$/m);
  assert.match(metrics, /^edgeworker_component_up\{component="notify"\} 0$/m);
});
