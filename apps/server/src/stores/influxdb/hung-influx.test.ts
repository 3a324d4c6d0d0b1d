/**
 * A hung InfluxDB: a TCP server that accepts connections and never answers. The
 * per-request timeout (INFLUX_TIMEOUT_MS) must really fire: queries fail as a timeout,
 * writes answer 503, /health says the store is down, and nothing waits forever.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { getJson, line, startTestApp, write } from '../../testing/start-app.ts';
import { createInfluxClient, InfluxError } from './influx-client.ts';

async function startHungServer(t: { after: (fn: () => Promise<void> | void) => void }) {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const srv = createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.resume(); // reads the request (and sees the client go away), never answers
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => srv.close(r));
  });
  const { port } = srv.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, accepted: () => accepted, open: () => sockets.size };
}

describe('a hung InfluxDB', () => {
  it('the client gives up after timeoutMs with a timeout error, and closes the connection', async (t) => {
    const hung = await startHungServer(t);
    const client = createInfluxClient({ url: hung.url, db: 'x', timeoutMs: 300 });
    const started = Date.now();
    await assert.rejects(client.query(['SELECT 1']), (err: unknown) => err instanceof InfluxError && err.kind === 'timeout');
    const took = Date.now() - started;
    assert.ok(took >= 300, `gave up after ${took} ms, before the timeout`);
    assert.equal(hung.accepted(), 1, 'the request reached the server');
    // The aborted request does not leave its connection hanging on the server.
    await waitClosed(hung.open);
  });

  it('the server answers 503 for queries and writes and reports the store down, instead of waiting', async (t) => {
    const hung = await startHungServer(t);
    const { url } = await startTestApp(t, { METRICS_STORE: 'influxdb', INFLUX_URL: hung.url, INFLUX_TIMEOUT_MS: '300', DETECTOR: 'off' });
    const overview = await fetch(`${url}/api/dashboard/overview`);
    assert.equal(overview.status, 503);
    assert.equal(((await overview.json()) as { code: string }).code, 'store_unavailable');
    const w = await write(url, line({ pop: 'FRA', ms: 1, t: Date.now() }));
    assert.equal(w.status, 503);
    assert.equal(w.json?.code, 'store_unavailable');
    const health = await getJson(`${url}/health`);
    assert.equal(health.status, 503);
    assert.equal(health.body.components.metricsStore.status, 'down');
    assert.ok(hung.accepted() > 0, 'the server did try the hung InfluxDB');
  });
});

async function waitClosed(open: () => number) {
  const deadline = Date.now() + 5000;
  while (open() > 0) {
    if (Date.now() > deadline) throw new Error(`${open()} connection(s) still open 5 s after the timeout`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
