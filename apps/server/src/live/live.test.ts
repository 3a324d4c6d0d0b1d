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

  it('sends a heartbeat every WS_HEARTBEAT_INTERVAL_MS with no data landing, and says the interval in hello', async (t) => {
    const { url } = await startTestApp(t, { WS_HEARTBEAT_INTERVAL_MS: '1000', DETECTOR: 'off' });
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    t.after(() => ws.terminate());
    const messages: Array<{ type: string; data: any; at: number }> = [];
    ws.on('message', (d) => messages.push({ ...JSON.parse(String(d)), at: Date.now() }));
    await waitFor(() => messages.filter((m) => m.type === 'heartbeat').length >= 2, 5_000, 'two heartbeats');
    assert.equal(messages[0]!.type, 'hello');
    assert.equal(messages[0]!.data.heartbeatIntervalMs, 1000);
    const beats = messages.filter((m) => m.type === 'heartbeat');
    assert.deepEqual(beats.map((m) => m.data.intervalMs), [1000, 1000]);
    const gap = beats[1]!.at - beats[0]!.at;
    assert.ok(gap >= 500 && gap <= 2500, `${gap} ms between two heartbeats at 1000`);
    const text = await (await fetch(`${url}/metrics`)).text();
    assert.match(text, /^edgeworker_ws_messages_total\{type="heartbeat"\} [1-9]/m);
  });

  it('refuses the client past WS_MAX_CLIENTS with close 1013, counts it, and lets one in once a place is free', async (t) => {
    const { url } = await startTestApp(t, { WS_MAX_CLIENTS: '3', DETECTOR: 'off' });
    const wsUrl = `${url.replace('http', 'ws')}/ws`;
    const metric = async (name: string) => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    };
    assert.equal(await metric('edgeworker_ws_clients_refused_total'), 0, 'exported at 0 before any refusal (increase() needs it)');
    assert.equal(await metric('edgeworker_ws_clients_max'), 3);

    /** A real client: resolves with its first message, or with its close code and reason if it closes first. */
    const connect = (): Promise<{ ws: WebSocket; first?: string; code?: number; reason?: string }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(wsUrl);
        t.after(() => ws.terminate());
        const timer = setTimeout(() => reject(new Error('no message and no close from /ws within 10 s')), 10_000);
        ws.once('message', (d) => {
          clearTimeout(timer);
          resolve({ ws, first: JSON.parse(String(d)).type });
        });
        ws.once('close', (code, reason) => {
          clearTimeout(timer);
          resolve({ ws, code, reason: String(reason) });
        });
        ws.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });

    const admitted = [await connect(), await connect(), await connect()];
    assert.deepEqual(admitted.map((c) => c.first), ['hello', 'hello', 'hello']);
    assert.equal(await metric('edgeworker_ws_clients'), 3);

    const fourth = await connect();
    assert.equal(fourth.first, undefined, 'no message for a refused client');
    assert.equal(fourth.code, 1013);
    assert.equal(fourth.reason, 'server full: 3 live clients (WS_MAX_CLIENTS); retry later');
    assert.equal(await metric('edgeworker_ws_clients_refused_total'), 1);
    assert.equal(await metric('edgeworker_ws_clients'), 3);
    const health = (await (await fetch(`${url}/health`)).json()) as { components: { websocket: unknown } };
    assert.deepEqual(health.components.websocket, { status: 'ok', clients: 3, maxClients: 3, required: false });

    admitted[0]!.ws.close();
    await waitFor(async () => (await metric('edgeworker_ws_clients')) === 2, 5_000, 'the server to see a client leave');
    const fifth = await connect();
    assert.equal(fifth.first, 'hello', 'a free place is taken again');
    assert.equal(await metric('edgeworker_ws_clients'), 3);
    assert.equal(await metric('edgeworker_ws_clients_refused_total'), 1);
  });
});
