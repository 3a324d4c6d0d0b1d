import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { NotifyConfig } from '../config.ts';
import { freePort } from '../testing/free-port.ts';
import { createNotifier } from './create-notifier.ts';
import { notifierHealth } from './health.ts';
import type { NotifyChannel } from './channel.ts';
import { sampleAlert, startHttpReceiver, startSmtpCollector } from './test-receivers.ts';

const log = pino({ level: 'silent' });
const none: NotifyConfig = { slackWebhookUrl: undefined, webhookUrl: undefined, smtpUrl: undefined, emailFrom: undefined, emailTo: [], publicUrl: undefined };
const fastRetry = { attempts: 3, initialDelayMs: 20, maxDelayMs: 100, timeoutMs: 2000 };

test('no channel configured: channels is empty, notify returns [] and health says not_configured', async () => {
  const notifier = createNotifier(none, { log, baseUrl: 'http://127.0.0.1:8080' });
  assert.deepEqual(notifier.channels, []);
  assert.deepEqual(await notifier.notify('opened', sampleAlert()), []);
  assert.deepEqual(notifierHealth(notifier), { status: 'not_configured', channels: [] });
  await notifier.close();
});

test('all three channels deliver an opened alert, each to its real receiver, with one outcome each', async (t) => {
  const slack = await startHttpReceiver(t);
  const hook = await startHttpReceiver(t);
  const smtp = await startSmtpCollector(t);
  const notifier = createNotifier(
    { ...none, slackWebhookUrl: slack.url, webhookUrl: hook.url, smtpUrl: smtp.url, emailTo: ['oncall@example.com'] },
    { log, baseUrl: () => 'https://monitor.example.com/', retry: fastRetry },
  );
  t.after(() => notifier.close());
  assert.deepEqual(notifier.channels, ['slack', 'email', 'webhook']);
  const outcomes = await notifier.notify('opened', sampleAlert());
  assert.deepEqual(outcomes.map((o) => [o.channel, o.event, o.ok, o.attempts, o.error]), [
    ['slack', 'opened', true, 1, undefined],
    ['email', 'opened', true, 1, undefined],
    ['webhook', 'opened', true, 1, undefined],
  ]);
  for (const o of outcomes) assert.ok(!Number.isNaN(Date.parse(o.at)));
  const link = 'https://monitor.example.com/?pop=FRA&function=ssr-render';
  assert.ok(slack.requests[0]!.body.includes(link), 'Slack button links to PUBLIC_URL');
  assert.equal((JSON.parse(hook.requests[0]!.body) as { dashboardUrl: string }).dashboardUrl, link);
  assert.ok(smtp.mails[0]!.text.includes(link));
  assert.deepEqual(notifierHealth(notifier).status, 'ok');
});

test('a down channel is retried its configured number of times, reported ok:false, and does not hold up the others', async (t) => {
  const deadPort = await freePort();
  const failing = await startHttpReceiver(t, () => ({ status: 500, body: 'internal error' }));
  const hook = await startHttpReceiver(t);
  const smtp = await startSmtpCollector(t);
  const notifier = createNotifier(
    { ...none, slackWebhookUrl: `http://127.0.0.1:${deadPort}/services/T/B/x`, webhookUrl: failing.url, smtpUrl: smtp.url, emailTo: ['oncall@example.com'] },
    // random() = 1: every backoff is its full cap (100 + 200 + 400 + 400 ms), so the failing channels take at least 1.1 s.
    { log, baseUrl: 'http://127.0.0.1:8080', retry: { attempts: 5, initialDelayMs: 100, maxDelayMs: 400, timeoutMs: 1000 }, random: () => 1 },
  );
  t.after(() => notifier.close());

  // The e-mail must arrive while the other two are still backing off.
  const started = Date.now();
  const pending = notifier.notify('opened', sampleAlert());
  await smtp.waitFor(1, 2000);
  const mailAfter = Date.now() - started;
  const failingRequestsWhenMailArrived = failing.requests.length;
  const outcomes = await pending;
  const elapsed = Date.now() - started;

  const by = Object.fromEntries(outcomes.map((o) => [o.channel, o]));
  assert.equal(by.email!.ok, true);
  assert.equal(by.email!.attempts, 1);
  assert.equal(by.slack!.ok, false);
  assert.equal(by.slack!.attempts, 5);
  assert.match(by.slack!.error ?? '', /ECONNREFUSED/);
  assert.equal(by.webhook!.ok, false);
  assert.equal(by.webhook!.attempts, 5);
  assert.equal(failing.requests.length, 5, 'the 500ing webhook got exactly the configured attempts');
  assert.match(by.webhook!.error ?? '', /HTTP 500: internal error/);
  assert.ok(failingRequestsWhenMailArrived < 5, `e-mail delivered after ${mailAfter} ms, while the 500ing webhook was still being retried`);
  // Backoff alone is 1.1 s; allow generous room for the shared machine, but not unbounded.
  assert.ok(elapsed >= 1100 && elapsed < 5000, `finished in ${elapsed} ms`);

  const health = notifierHealth(notifier);
  assert.equal(health.status, 'degraded');
  assert.deepEqual(health.failing, ['slack', 'webhook']);
});

test('a 400 from the webhook is not retried', async (t) => {
  const hook = await startHttpReceiver(t, () => ({ status: 400, body: 'bad request' }));
  const notifier = createNotifier({ ...none, webhookUrl: hook.url }, { log, baseUrl: 'http://127.0.0.1:8080', retry: fastRetry });
  t.after(() => notifier.close());
  const [o] = await notifier.notify('resolved', sampleAlert({ status: 'resolved', resolvedAt: '2026-11-26T20:30:00.000Z' }));
  assert.deepEqual([o!.channel, o!.event, o!.ok, o!.attempts, o!.error], ['webhook', 'resolved', false, 1, 'POST to ' + new URL(hook.url).origin + ' answered HTTP 400: bad request']);
  assert.equal(hook.requests.length, 1);
});

test('a channel that throws synchronously is contained; close() cuts backoffs short and closes the channels', async () => {
  const throwing: NotifyChannel = {
    name: 'broken',
    send() {
      throw new Error('bug in channel');
    },
  };
  let closed = false;
  const slow: NotifyChannel = {
    name: 'slow',
    send: () => Promise.reject(new Error('still down')),
    close() {
      closed = true;
    },
  };
  const notifier = createNotifier(none, {
    log,
    baseUrl: 'http://127.0.0.1:8080',
    channels: [throwing, slow],
    retry: { attempts: 5, initialDelayMs: 10_000, maxDelayMs: 10_000, timeoutMs: 1000 },
    random: () => 1,
  });
  const started = Date.now();
  const pending = notifier.notify('opened', sampleAlert());
  setTimeout(() => void notifier.close(), 50);
  const outcomes = await pending;
  assert.ok(Date.now() - started < 2000, 'close() did not wait out the 10 s backoffs');
  assert.deepEqual(outcomes.map((o) => [o.channel, o.ok, o.attempts]), [['broken', false, 1], ['slow', false, 1]]);
  assert.match(outcomes[0]!.error ?? '', /bug in channel; gave up: notifier closed/);
  await notifier.close();
  assert.equal(closed, true, 'channel transports are closed');
  const after = await notifier.notify('resolved', sampleAlert());
  assert.deepEqual(after.map((o) => [o.channel, o.ok, o.error]), [['broken', false, 'notifier closed'], ['slow', false, 'notifier closed']]);
});

test('invalid retry settings are refused with a clear error', () => {
  assert.throws(() => createNotifier(none, { log, baseUrl: 'http://x', retry: { attempts: 0 } }), /retry.attempts must be an integer >= 1 \(got 0\)/);
});
