import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildEmail, createEmailChannel, DEFAULT_EMAIL_FROM } from './email.ts';
import { withRetry, type RetryPolicy } from './retry.ts';
import { sampleAlert, startSmtpCollector } from './test-receivers.ts';
import { freePort } from '../testing/free-port.ts';

const fast: RetryPolicy = { attempts: 3, initialDelayMs: 10, maxDelayMs: 50, timeoutMs: 3000 };
const link = 'http://127.0.0.1:8080/?pop=FRA&function=ssr-render';

test('an opened alert is mailed over real SMTP with the subject, a text and an HTML body', async (t) => {
  const smtp = await startSmtpCollector(t);
  const channel = createEmailChannel({ smtpUrl: smtp.url, to: ['oncall@example.com', 'sre@example.com'] });
  t.after(() => channel.close?.());
  await channel.send({ event: 'opened', alert: sampleAlert(), dashboardUrl: link }, AbortSignal.timeout(5000));
  const [mail] = await smtp.waitFor(1);
  assert.equal(mail!.subject, '[CRITICAL] Regression: ssr-render at FRA +85% (120 → 222 ms)');
  assert.equal(mail!.from, 'monitor@localhost');
  assert.equal(mail!.headers.from, DEFAULT_EMAIL_FROM);
  assert.deepEqual(mail!.to, ['oncall@example.com', 'sre@example.com']);
  assert.match(mail!.text, /Cold starts of ssr-render at FRA regressed \(critical\)\./);
  assert.match(mail!.text, /Baseline → current: 120 → 222 ms \(\+85%\)/);
  assert.match(mail!.text, /Opened: 2026-11-26 20:00:00 UTC/);
  assert.ok(mail!.text.includes(`Dashboard: ${link}`));
  assert.match(mail!.html, /<th align="left">Function<\/th><td>ssr-render<\/td>/);
  assert.ok(mail!.html.includes('<a href="http://127.0.0.1:8080/?pop=FRA&amp;function=ssr-render">'), 'the link is attribute-escaped');
});

test('a resolved alert gets a [RESOLVED] subject and the configured From', async (t) => {
  const smtp = await startSmtpCollector(t);
  const channel = createEmailChannel({ smtpUrl: smtp.url, from: 'Edge Alerts <alerts@example.com>', to: ['oncall@example.com'] });
  t.after(() => channel.close?.());
  const alert = sampleAlert({ status: 'resolved', resolvedAt: '2026-11-26T20:30:00.000Z' });
  await channel.send({ event: 'resolved', alert, dashboardUrl: link }, AbortSignal.timeout(5000));
  const [mail] = await smtp.waitFor(1);
  assert.equal(mail!.subject, '[RESOLVED] Regression: ssr-render at FRA +85% (120 → 222 ms)');
  assert.equal(mail!.from, 'alerts@example.com');
  assert.match(mail!.text, /is resolved\./);
  assert.match(mail!.text, /Resolved: 2026-11-26 20:30:00 UTC/);
});

test('a hostile function name is escaped in the HTML body and cannot break the subject header', () => {
  const alert = sampleAlert({ functionName: '<script>alert("x")</script>\r\nBcc: victim@example.com' });
  const mail = buildEmail({ event: 'opened', alert, dashboardUrl: link });
  assert.ok(!mail.html.includes('<script>'), 'no live tag');
  assert.ok(mail.html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'));
  assert.ok(!/[\r\n]/.test(mail.subject), 'the subject stays on one line');
});

test('the hostile name survives real SMTP escaped, as the recipient sees it', async (t) => {
  const smtp = await startSmtpCollector(t);
  const channel = createEmailChannel({ smtpUrl: smtp.url, to: ['oncall@example.com'] });
  t.after(() => channel.close?.());
  const alert = sampleAlert({ functionName: '<img src=x onerror=alert(1)>' });
  await channel.send({ event: 'opened', alert, dashboardUrl: link }, AbortSignal.timeout(5000));
  const [mail] = await smtp.waitFor(1);
  assert.ok(!mail!.html.includes('<img'), mail!.html);
  assert.ok(mail!.html.includes('&lt;img src=x onerror=alert(1)&gt;'));
  assert.ok(mail!.text.includes('<img src=x onerror=alert(1)>'), 'the text part shows the name as is');
});

test('an SMTP 5xx refusal is permanent (not retried); a 4xx is retried', async (t) => {
  const permanent = await startSmtpCollector(t, { reject: () => ({ code: 550, message: 'mailbox unavailable' }) });
  const ch1 = createEmailChannel({ smtpUrl: permanent.url, to: ['oncall@example.com'] });
  t.after(() => ch1.close?.());
  const r1 = await withRetry((signal) => ch1.send({ event: 'opened', alert: sampleAlert(), dashboardUrl: link }, signal), fast);
  assert.equal(r1.ok, false);
  assert.equal(r1.attempts, 1);
  assert.match(r1.error ?? '', /^SMTP: .*550.*mailbox unavailable/);

  const transient = await startSmtpCollector(t, { reject: (i) => (i === 0 ? { code: 451, message: 'try again later' } : undefined) });
  const ch2 = createEmailChannel({ smtpUrl: transient.url, to: ['oncall@example.com'] });
  t.after(() => ch2.close?.());
  const r2 = await withRetry((signal) => ch2.send({ event: 'opened', alert: sampleAlert(), dashboardUrl: link }, signal), fast);
  assert.deepEqual(r2, { ok: true, attempts: 2 });
  assert.equal(transient.mails.length, 1);
});

test('an SMTP server that is down is retried and reported', async (t) => {
  const port = await freePort();
  const channel = createEmailChannel({ smtpUrl: `smtp://127.0.0.1:${port}`, to: ['oncall@example.com'] });
  t.after(() => channel.close?.());
  const r = await withRetry((signal) => channel.send({ event: 'opened', alert: sampleAlert(), dashboardUrl: link }, signal), fast);
  assert.equal(r.ok, false);
  assert.equal(r.attempts, 3);
  assert.match(r.error ?? '', /ECONNREFUSED/);
});
