import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { line, startTestApp, write } from '../testing/start-app.ts';
import { waitFor } from '../testing/wait.ts';

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

  it('sends at most one metrics_update per second under a steady stream of writes', async (t) => {
    const { url } = await startTestApp(t);
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    t.after(() => ws.terminate());
    const updates: Array<{ at: number; samples: number }> = [];
    let hello = false;
    ws.on('message', (d) => {
      const m = JSON.parse(String(d));
      if (m.type === 'hello') hello = true;
      if (m.type === 'metrics_update') updates.push({ at: Date.now(), samples: m.data.samples });
    });
    await waitFor(() => hello, 10_000, 'hello');

    // A write every 50 ms for 3.5 s (70 writes at most): each one lands data.
    const started = Date.now();
    let written = 0;
    while (Date.now() - started < 3500 && written < 70) {
      assert.equal((await write(url, line({ pop: 'NRT', ms: 50 + written, t: started - written }))).status, 204);
      written++;
      await sleep(50);
    }
    // The last write is announced too (coalesced, not dropped).
    await waitFor(() => updates.at(-1)?.samples === written, 10_000, `an update with all ${written} samples`);
    const elapsedS = (updates.at(-1)!.at - started) / 1000;
    // One per started second at most (the first may go at once); counted, since a late
    // delivery on a loaded machine can bring two sends closer together than they left.
    assert.ok(updates.length <= Math.ceil(elapsedS) + 1, `${updates.length} updates in ${elapsedS.toFixed(1)} s for ${written} writes`);
    assert.ok(updates.length >= 2, `only ${updates.length} update(s) in ${elapsedS.toFixed(1)} s of steady writes: not live`);
    assert.ok(written > updates.length * 3, `${written} writes gave ${updates.length} updates: not coalesced`);
  });
});
