import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadConfig } from '../config.ts';
import { startAllInOne } from '../all-in-one.ts';
import { startHttpReceiver, startSmtpCollector } from '../notify/test-receivers.ts';
const afters: (() => unknown)[] = [];
const t = { after: (f: () => unknown) => afters.push(f) } as any;
const t0 = Date.now();
const el = () => `${((Date.now() - t0) / 1000).toFixed(0)}s`;
const hook = await startHttpReceiver(t);
const smtp = await startSmtpCollector(t);
const env = {
  DATA_DIR: mkdtempSync(join(tmpdir(), 'ewm-demo-')), PORT: '0', LOG_LEVEL: 'warn',
  GENERATOR_INTERVAL_MS: '2000', DETECTOR_SCHEDULE: '*/15 * * * * *',
  DETECTOR_RECENT_WINDOW: '2m', DETECTOR_BASELINE_WINDOW: '6m', DETECTOR_RESOLVE_AFTER: '2m',
  GENERATOR_INJECT: 'pops=FRA;functions=ssr-render;factor=2;start=+6m;duration=3m',
  SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'sre@example.com', ALERT_EMAIL_FROM: 'monitor@example.com', ALERT_WEBHOOK_URL: hook.url,
};
console.log(el(), 'env', JSON.stringify(env));
const product = await startAllInOne(loadConfig(env));
const ws = new WebSocket(product.url.replace('http', 'ws') + '/ws');
ws.on('message', (raw) => { const m = JSON.parse(String(raw)); if (m.type === 'alert') console.log(el(), 'WS alert', m.data.popCode, m.data.functionName, m.data.status, m.data.severity, m.data.changePct, JSON.stringify(m.data.notifications.map((n: any) => [n.channel, n.event, n.ok]))); });
let last = '';
const timer = setInterval(async () => {
  const h = await (await fetch(product.url + '/health')).json() as any;
  const d = h.components.detector; const s = JSON.stringify(d.lastRun);
  if (s !== last) { last = s; console.log(el(), 'detector lastRun', s, 'mails', smtp.mails.length, 'webhooks', hook.requests.length); }
}, 5000);
const deadline = Date.now() + 15 * 60_000;
while (Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 5000));
  const res = await (await fetch(product.url + '/api/alerts')).json() as any;
  if (res.alerts.some((a: any) => a.status === 'resolved' && a.popCode === 'FRA')) { await new Promise((r) => setTimeout(r, 3000)); break; }
}
const res = await (await fetch(product.url + '/api/alerts')).json() as any;
console.log(el(), 'alerts', JSON.stringify(res.alerts.map((a: any) => ({ pop: a.popCode, fn: a.functionName, status: a.status, createdAt: a.createdAt, resolvedAt: a.resolvedAt, resolvedBy: a.resolvedBy, n: a.notifications }))));
console.log(el(), 'mails', smtp.mails.map((m) => m.subject), 'webhooks', hook.requests.map((r) => r.body.slice(0, 120)));
clearInterval(timer); ws.close();
await product.stop();
for (const f of afters.reverse()) await f();
console.log(el(), 'done');
process.exit(0);
