import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { pino } from 'pino';
import type { Overview } from '@edgeworker/schema';
import { createLiveHub, type HubOptions } from './hub.ts';

const log = pino({ level: 'silent' });
const overview = (samples: number): Overview => ({
  totalPops: 1, healthyPops: 1, warningPops: 0, criticalPops: 0, noDataPops: 0, averageColdStart: 1, p50: 1, p95: 1, p99: 1,
  samples, regressions: 0, window: '5m', thresholds: { warnMs: 200, critMs: 400 }, latestSampleAt: null, updatedAt: new Date().toISOString(), resolution: 'raw',
});

/** A real ws server on a free loopback port whose connections all join the hub. */
async function hubServer(t: TestContext, over: Partial<HubOptions> = {}) {
  let computed = 0;
  const hub = createLiveHub({
    computeOverview: async () => overview(++computed),
    coalesceMs: 200,
    pingIntervalMs: 60_000,
    maxBufferedBytes: 1024 * 1024,
    heartbeatIntervalMs: 60_000,
    maxClients: 1000,
    log,
    ...over,
  });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (s) => void hub.addClient(s));
  await once(wss, 'listening');
  t.after(async () => {
    hub.close();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  });
  const { port } = wss.address() as { port: number };
  return { hub, url: `ws://127.0.0.1:${port}`, computedCount: () => computed };
}

/** A client that records every message; resolves once it has had its hello (rejects after 10 s without). */
async function client(t: TestContext, url: string, opts: ConstructorParameters<typeof WebSocket>[2] = {}) {
  const ws = new WebSocket(url, opts);
  const messages: any[] = [];
  const hello = new Promise<void>((resolve) => {
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      messages.push(m);
      if (m.type === 'hello') resolve();
    });
  });
  t.after(() => ws.terminate());
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no hello within 10 s')), 10_000)));
  await Promise.race([hello, late]).finally(() => clearTimeout(timer));
  return { ws, messages, of: (type: string) => messages.filter((m) => m.type === type) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, what: string, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('live hub', () => {
  it('greets each client, then sends one coalesced update per burst of data', async (t) => {
    const { hub, url } = await hubServer(t);
    const a = await client(t, url);
    const b = await client(t, url);
    assert.equal(a.of('hello').length, 1);
    assert.equal(a.of('hello')[0].data.overview.totalPops, 1);

    for (let i = 0; i < 50; i++) hub.dataLanded();
    await until(() => a.of('metrics_update').length === 1 && b.of('metrics_update').length === 1, 'first update');
    const firstAt = Date.now();
    // Data landing right after an update waits out the coalescing period (200 ms).
    hub.dataLanded();
    hub.dataLanded();
    await until(() => a.of('metrics_update').length === 2, 'second update');
    assert.ok(Date.now() - firstAt >= 150, `second update after ${Date.now() - firstAt} ms`);
    await sleep(500); // more than two periods: nothing more without new data
    assert.equal(a.of('metrics_update').length, 2);
    assert.equal(b.of('metrics_update').length, 2);
    // Overviews 1 and 2 were the two hellos; each update is one fresh computation.
    assert.deepEqual(a.of('metrics_update').map((m) => m.data.samples), [3, 4]);
  });

  it('lets clients that connect while an overview query runs share it for their hello', async (t) => {
    let queries = 0;
    // The first query is held open until all ten clients have joined: that is "together".
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { hub, url } = await hubServer(t, {
      computeOverview: async () => {
        queries++;
        if (queries === 1) await gate;
        return overview(queries);
      },
    });
    const connecting = Promise.all(Array.from({ length: 10 }, () => client(t, url)));
    await until(() => hub.clientCount() === 10, 'ten clients joined');
    release();
    const clients = await connecting;
    assert.ok(clients.every((c) => c.of('hello').length === 1));
    assert.equal(queries, 1, `${queries} queries for 10 hellos`);
    // An update never reuses a query that started before its data landed.
    hub.dataLanded();
    await until(() => clients.every((c) => c.of('metrics_update').length === 1), 'update');
    assert.equal(queries, 2);
  });

  it('computes no update while no client is connected, and greets a later client with fresh numbers', async (t) => {
    const { hub, url, computedCount } = await hubServer(t, { coalesceMs: 20 });
    for (let i = 0; i < 5; i++) {
      hub.dataLanded();
      await sleep(40);
    }
    assert.equal(computedCount(), 0, 'no overview computed for nobody');
    const a = await client(t, url);
    assert.equal(a.of('hello')[0].data.overview.samples, 1);
    hub.dataLanded();
    await until(() => a.of('metrics_update').length === 1, 'the update once a client is there');
    assert.equal(computedCount(), 2);
  });

  it('sends nothing on a timer when no data lands', async (t) => {
    const { url, computedCount } = await hubServer(t, { coalesceMs: 50 });
    const a = await client(t, url);
    await sleep(500);
    assert.equal(a.of('metrics_update').length, 0);
    assert.equal(computedCount(), 1); // the hello only
  });

  it('keeps a fast client fed while a stalled client fills its buffer and is dropped', async (t) => {
    const drops: string[] = [];
    const { hub, url } = await hubServer(t, { maxBufferedBytes: 256 * 1024, onDrop: (r) => drops.push(r) });
    const fast = await client(t, url);
    const stalled = await client(t, url);
    // Stop reading on the stalled client: the kernel buffers fill, then the server's.
    (stalled.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();

    const big = 'x'.repeat(64 * 1024);
    const rounds = 400; // 25 MB in all: far more than loopback socket buffers hold
    const started = Date.now();
    for (let i = 0; i < rounds; i++) {
      hub.broadcast({ type: 'metrics_update', data: { ...overview(i), window: big } });
      if (i % 20 === 0) await sleep(1); // let sockets drain as a real event loop would
    }
    await until(() => fast.of('metrics_update').length === rounds, 'fast client to receive everything', 20_000);
    assert.deepEqual(fast.of('metrics_update').map((m) => m.data.samples), Array.from({ length: rounds }, (_, i) => i));
    assert.deepEqual(drops, ['slow']);
    assert.equal(hub.clientCount(), 1);
    assert.ok(Date.now() - started < 20_000);
  });

  it('drops clients that stop answering pings', async (t) => {
    const drops: string[] = [];
    const { hub, url } = await hubServer(t, { pingIntervalMs: 100, onDrop: (r) => drops.push(r) });
    const healthy = await client(t, url);
    const deaf = await client(t, url, { autoPong: false });
    const closed = once(deaf.ws, 'close');
    await closed;
    assert.deepEqual(drops, ['dead']);
    assert.equal(hub.clientCount(), 1);
    assert.equal(healthy.ws.readyState, WebSocket.OPEN);
  });

  it('sends a heartbeat to every client at a fixed interval, data or not, after its hello', async (t) => {
    const sent: string[] = [];
    const { url } = await hubServer(t, { heartbeatIntervalMs: 100, onSent: (type) => sent.push(type) });
    const a = await client(t, url);
    const b = await client(t, url);
    assert.equal(a.messages[0].type, 'hello');
    assert.equal(a.messages[0].data.heartbeatIntervalMs, 100, 'hello says the interval, so a client can arm its watchdog at once');
    const start = a.of('heartbeat').length;
    await sleep(650);
    const beats = a.of('heartbeat').slice(start);
    // ~6 in 650 ms; a loaded machine may delay ticks, never add any
    assert.ok(beats.length >= 3 && beats.length <= 7, `${beats.length} heartbeats in 650 ms at 100 ms`);
    assert.ok(b.of('heartbeat').length >= 3, 'every client gets them');
    for (const m of beats) {
      assert.equal(m.data.intervalMs, 100);
      assert.ok(Math.abs(Date.parse(m.data.serverTime) - Date.now()) < 5_000, m.data.serverTime);
    }
    assert.equal(a.of('metrics_update').length, 0, 'a heartbeat is no data');
    assert.ok(sent.includes('heartbeat'), 'counted in edgeworker_ws_messages_total{type="heartbeat"}');
  });

  it('keeps hello the first message: no heartbeat before it, however long its overview takes', async (t) => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { hub, url } = await hubServer(t, {
      heartbeatIntervalMs: 50,
      computeOverview: async () => {
        await gate;
        return overview(1);
      },
    });
    const ws = new WebSocket(url);
    t.after(() => ws.terminate());
    const messages: any[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    await until(() => hub.clientCount() === 1, 'the client joined');
    await sleep(300); // six ticks
    assert.equal(messages.length, 0, `nothing before the hello: ${JSON.stringify(messages)}`);
    release();
    await until(() => messages.filter((m) => m.type === 'heartbeat').length >= 2, 'heartbeats after the hello');
    assert.equal(messages[0].type, 'hello');
  });

  it('refuses a client beyond maxClients with close 1013 and a reason, and takes one again once a place is free', async (t) => {
    let refused = 0;
    const { hub, url } = await hubServer(t, { maxClients: 2, onRefuse: () => refused++ });
    const a = await client(t, url);
    await client(t, url);
    assert.equal(hub.clientCount(), 2);

    const third = new WebSocket(url);
    t.after(() => third.terminate());
    const got: string[] = [];
    third.on('message', (d) => got.push(String(d)));
    const [code, reason] = (await once(third, 'close', { signal: AbortSignal.timeout(5_000) })) as [number, Buffer];
    assert.equal(code, 1013);
    assert.match(String(reason), /^server full: 2 live clients \(WS_MAX_CLIENTS\); retry later$/);
    assert.deepEqual(got, [], 'no hello for a refused client');
    assert.equal(refused, 1);
    assert.equal(hub.clientCount(), 2);

    a.ws.close();
    await until(() => hub.clientCount() === 1, 'the server saw a client leave');
    const next = await client(t, url);
    assert.equal(next.of('hello').length, 1, 'a free place is taken again');
    assert.equal(hub.clientCount(), 2);
    assert.equal(refused, 1);
  });
});
