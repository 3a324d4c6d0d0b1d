import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSlackMessage, createSlackChannel, type SlackBlock } from './slack.ts';
import { dashboardUrl } from './format.ts';
import { sampleAlert, startHttpReceiver } from './test-receivers.ts';
import { PermanentError } from './retry.ts';

const link = dashboardUrl('https://monitor.example.com/', sampleAlert());

function blockOf<T extends SlackBlock['type']>(blocks: SlackBlock[], type: T): Extract<SlackBlock, { type: T }> {
  const b = blocks.find((x) => x.type === type);
  assert.ok(b, `a ${type} block`);
  return b as Extract<SlackBlock, { type: T }>;
}

test('an opened alert: header with severity and status, the facts, a dashboard button and a text fallback', () => {
  const msg = buildSlackMessage({ event: 'opened', alert: sampleAlert(), dashboardUrl: link });
  assert.equal(link, 'https://monitor.example.com/?pop=FRA&function=ssr-render');
  assert.match(blockOf(msg.blocks, 'header').text.text, /CRITICAL regression opened at FRA/);
  const fields = blockOf(msg.blocks, 'section').fields!.map((f) => f.text);
  assert.deepEqual(fields, ['*POP*\nFRA', '*Function*\nssr-render', '*Baseline → current*\n120 → 222 ms (+85%)', '*Opened*\n2026-11-26 20:00:00 UTC']);
  const button = blockOf(msg.blocks, 'actions').elements[0]!;
  assert.equal(button.url, link);
  assert.equal(msg.text, `[CRITICAL] Regression: ssr-render at FRA +85% (120 → 222 ms) <${link}|Open dashboard>`);
});

test('a resolved alert says so and shows when it resolved', () => {
  const alert = sampleAlert({ status: 'resolved', resolvedAt: '2026-11-26T20:30:00.000Z', currentMs: 121, changePct: 0.8 });
  const msg = buildSlackMessage({ event: 'resolved', alert, dashboardUrl: link });
  assert.match(blockOf(msg.blocks, 'header').text.text, /^:white_check_mark: Resolved: critical regression at FRA$/);
  const fields = blockOf(msg.blocks, 'section').fields!.map((f) => f.text);
  assert.ok(fields.includes('*Resolved*\n2026-11-26 20:30:00 UTC'), fields.join(' | '));
  assert.ok(msg.text.startsWith('[RESOLVED] Regression: ssr-render at FRA +1% (120 → 121 ms)'));
});

test('a hostile function name cannot ping a channel or forge a link in mrkdwn; the dashboard link is URL-encoded', () => {
  const alert = sampleAlert({ functionName: '<!channel> <http://evil|click> & co' });
  const url = dashboardUrl('http://127.0.0.1:8080', alert);
  const msg = buildSlackMessage({ event: 'opened', alert, dashboardUrl: url });
  const fn = blockOf(msg.blocks, 'section').fields![1]!.text;
  assert.equal(fn, '*Function*\n&lt;!channel&gt; &lt;http://evil|click&gt; &amp; co');
  assert.ok(!msg.text.includes('<!channel>'));
  assert.equal(url, 'http://127.0.0.1:8080/?pop=FRA&function=%3C!channel%3E%20%3Chttp%3A%2F%2Fevil%7Cclick%3E%20%26%20co');
});

test('the sender POSTs the Block Kit JSON to the webhook URL', async (t) => {
  const receiver = await startHttpReceiver(t);
  const channel = createSlackChannel({ webhookUrl: receiver.url });
  await channel.send({ event: 'opened', alert: sampleAlert(), dashboardUrl: link }, AbortSignal.timeout(5000));
  const [req] = await receiver.waitFor(1);
  assert.equal(req!.method, 'POST');
  assert.equal(req!.path, '/hooks/secret-token');
  assert.match(String(req!.headers['content-type']), /^application\/json/);
  const body = JSON.parse(req!.body) as { text: string; blocks: SlackBlock[] };
  assert.deepEqual(body.blocks.map((b) => b.type), ['header', 'section', 'actions', 'context']);
  assert.equal(blockOf(body.blocks, 'actions').elements[0]!.url, link);
});

test('Slack refusing the payload (400 invalid_blocks) is permanent; the error names the origin, not the secret path', async (t) => {
  const receiver = await startHttpReceiver(t, () => ({ status: 400, body: 'invalid_blocks' }));
  const channel = createSlackChannel({ webhookUrl: receiver.url });
  const err = await channel.send({ event: 'opened', alert: sampleAlert(), dashboardUrl: link }, AbortSignal.timeout(5000)).then(
    () => assert.fail('should fail'),
    (e: Error) => e,
  );
  assert.ok(err instanceof PermanentError);
  assert.match(err.message, /answered HTTP 400: invalid_blocks/);
  assert.ok(!err.message.includes('secret-token'), err.message);
});
