import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { line, startTestApp, write } from '../testing/start-app.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('/ws on the real app', () => {
  it('sends hello, then exactly one metrics_update for a write, with the new data in it', async (t) => {
    const { url } = await startTestApp(t);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    t.after(() => ws.terminate());
    const messages: any[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    const deadline = Date.now() + 5000;
    while (!messages.some((m) => m.type === 'hello') && Date.now() < deadline) await sleep(10);
    assert.equal(messages[0]?.type, 'hello');
    assert.equal(messages[0].data.overview.samples, 0);

    assert.equal((await write(url, line({ pop: 'NRT', ms: 77, t: Date.now() }))).status, 204);
    while (!messages.some((m) => m.type === 'metrics_update') && Date.now() < deadline) await sleep(10);
    const updates = () => messages.filter((m) => m.type === 'metrics_update');
    assert.equal(updates().length, 1);
    assert.equal(updates()[0].data.samples, 1);
    assert.equal(updates()[0].data.averageColdStart, 77);
    await sleep(1500);
    assert.equal(updates().length, 1, 'no further update without new data');
  });
});
