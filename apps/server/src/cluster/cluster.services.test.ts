/**
 * Two replicas of the real app (two buildApp instances, each on its own port and
 * DATA_DIR) sharing one real redis-server, as two `npm start` processes behind a
 * load balancer would.
 */
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { freePort } from '../testing/free-port.ts';
import { startInfluxd } from '../testing/influxd.ts';
import { getJson, line, startTestApp, write, type TestApp } from '../testing/start-app.ts';
import { startRedisServer, waitFor } from '../testing/redis-server.ts';

const TTL = 1200;
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

interface Client {
  messages: any[];
  of(type: string): any[];
}

async function wsClient(t: TestContext, url: string): Promise<Client> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`);
  t.after(() => ws.terminate());
  const messages: any[] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d))));
  const c = { messages, of: (type: string) => messages.filter((m) => m.type === type) };
  await waitFor(() => c.of('hello').length === 1, 5000, 'hello');
  return c;
}

async function replica(t: TestContext, redisUrl: string, env: Record<string, string> = {}): Promise<TestApp> {
  const r = await startTestApp(t, { REDIS_URL: redisUrl, REDIS_LOCK_TTL_MS: String(TTL), ...env });
  await waitFor(async () => (await health(r)).components.cluster?.status === 'ok', 5000, 'the replica to join the cluster');
  return r;
}

async function health(r: { url: string }): Promise<any> {
  return (await getJson(`${r.url}/health`)).body;
}

/** The real server entry point in its own process, so a test can SIGKILL it. */
async function serverProcess(t: TestContext, redisUrl: string): Promise<{ url: string; kill(): void }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ewm-replica-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/server/src/bin/server.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, REDIS_URL: redisUrl, REDIS_LOCK_TTL_MS: String(TTL), PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr = (stderr + String(d)).slice(-4000)));
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
    return fetch(`${url}/health`).then(() => true, () => false);
  }, 30_000, 'the server process to listen');
  return { url, kill: () => child.kill('SIGKILL') };
}

async function runDetector(r: TestApp): Promise<any> {
  const res = await fetch(`${r.url}/api/detector/run`, { method: 'POST' });
  assert.equal(res.status, 200);
  return res.json();
}

const leaderOf = async (...rs: TestApp[]) => {
  const states = await Promise.all(rs.map(async (r) => (await health(r)).components.cluster));
  return states.filter((c) => c.leader);
};

describe('two replicas sharing Redis', () => {
  it('a write to replica A gives a metrics_update to a WebSocket client of replica B', async (t) => {
    const redis = await startRedisServer(t);
    const a = await replica(t, redis.url);
    const b = await replica(t, redis.url);
    const onB = await wsClient(t, b.url);
    const onA = await wsClient(t, a.url);

    assert.equal((await write(a.url, line({ pop: 'FRA', ms: 120, t: Date.now() }))).status, 204);
    await waitFor(() => onB.of('metrics_update').length === 1, 5000, 'metrics_update on B');
    await waitFor(() => onA.of('metrics_update').length === 1, 5000, 'metrics_update on A');
    assert.equal(onA.of('metrics_update')[0].data.samples, 1);
    // Embedded stores: B's numbers are B's own data (see the README); the news crossed.
    assert.equal(typeof onB.of('metrics_update')[0].data.totalPops, 'number');
    const hb = await health(b);
    assert.equal(hb.components.cluster.fanOut.received, 1);
    assert.equal(hb.components.cache.kind, 'redis');
    assert.equal(hb.components.cache.status, 'ok');
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal(onB.of('metrics_update').length, 1, 'one write, one update, no echo');
  });

  it('on a shared InfluxDB the replicas answer as one service: same data, one shared cache entry', async (t) => {
    const [redis, influx] = await Promise.all([startRedisServer(t), startInfluxd(t)]);
    const env = { METRICS_STORE: 'influxdb', INFLUX_URL: influx.url, INFLUX_DB: 'cluster', INFLUX_POLL_INTERVAL_MS: '3600000' };
    const a = await replica(t, redis.url, env);
    const b = await replica(t, redis.url, env);
    assert.equal((await health(b)).components.cluster.sharedData, true);
    const onB = await wsClient(t, b.url);

    assert.equal((await write(a.url, line({ pop: 'FRA', ms: 120, t: Date.now() }))).status, 204);
    await waitFor(() => onB.of('metrics_update').length === 1, 5000, 'metrics_update on B');
    assert.equal(onB.of('metrics_update')[0].data.samples, 1, 'B reports the sample written to A');
    assert.equal(onB.of('metrics_update')[0].data.averageColdStart, 120);

    const fromA = await getJson(`${a.url}/api/dashboard/overview?window=5m`);
    const fromB = await getJson(`${b.url}/api/dashboard/overview?window=5m`);
    assert.equal(fromB.body.samples, 1);
    // Same updatedAt: B answered with the entry computed once and shared through Redis.
    assert.deepEqual(fromB.body, fromA.body);
  });

  it('an alert raised on replica A reaches the WebSocket clients of both replicas, once each', async (t) => {
    const redis = await startRedisServer(t);
    const a = await replica(t, redis.url);
    const b = await replica(t, redis.url);
    const onA = await wsClient(t, a.url);
    const onB = await wsClient(t, b.url);
    const { alert } = await a.app.services.alerts.raise({
      popCode: 'FRA',
      functionName: 'ssr-render',
      severity: 'critical',
      baselineMs: 100,
      currentMs: 260,
      changePct: 160,
    });
    await waitFor(() => onB.of('alert').length === 1, 5000, 'the alert on B');
    assert.equal(onB.of('alert')[0].data.id, alert.id);
    assert.equal(onB.of('alert')[0].data.popCode, 'FRA');
    assert.equal(onB.of('alert')[0].data.status, 'open');
    await waitFor(() => onA.of('alert').length === 1, 5000, 'the alert on A');
    await a.app.services.alerts.acknowledge(alert.id);
    await waitFor(() => onB.of('alert').length === 2, 5000, 'the state change on B');
    assert.equal(onB.of('alert')[1].data.status, 'acknowledged');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(onA.of('alert').length, 2, 'no echo back to A');
  });

  it('elects one detector leader, and the other takes over within the lock expiry when it goes', async (t) => {
    const redis = await startRedisServer(t);
    const a = await replica(t, redis.url);
    const b = await replica(t, redis.url);
    await waitFor(async () => (await leaderOf(a, b)).length === 1, TTL * 2, 'one leader');
    const [first] = await leaderOf(a, b);
    const [leaderApp, standby] = first.replicaId === (await health(a)).components.cluster.replicaId ? [a, b] : [b, a];
    assert.equal((await health(standby)).components.cluster.holder, first.replicaId);
    assert.equal((await runDetector(standby)).skipped, 'not_leader', 'the standby does not run passes');
    assert.equal((await runDetector(leaderApp)).skipped, undefined, 'the leader does');

    const gone = Date.now();
    await leaderApp.app.close();
    // A clean close releases the lock (rather than leaving it to expire): checked in Redis
    // itself, not by the clock, which a loaded machine stretches.
    const raw = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    t.after(() => raw.disconnect());
    const holderAfterClose = await raw.get('ewm:leader:detector');
    assert.ok(holderAfterClose === null || !holderAfterClose.startsWith(`${first.replicaId}|`), `the lock was released on close (holds ${holderAfterClose})`);
    await waitFor(async () => (await health(standby)).components.cluster.leader, TTL * 10, 'the standby to lead');
    const took = Date.now() - gone;
    const next = (await health(standby)).components.cluster;
    assert.ok(next.fence > first.fence, `a new term has a larger fence (${first.fence} -> ${next.fence})`);
    t.diagnostic(`takeover after a clean close: ${took} ms (lock TTL ${TTL} ms)`);
    assert.equal((await runDetector(standby)).skipped, undefined, 'and now runs the passes');
  });

  it('takes over within the lock expiry when the leader process is killed (no release, no goodbye)', async (t) => {
    const redis = await startRedisServer(t);
    const leader = await serverProcess(t, redis.url);
    await waitFor(async () => (await health(leader)).components.cluster.leader, 10_000, 'the process to lead');
    const b = await replica(t, redis.url);
    const dead = (await health(leader)).components.cluster;
    assert.equal((await health(b)).components.cluster.holder, dead.replicaId);

    const killedAt = Date.now();
    leader.kill();
    // Bounded generously: how soon after the expiry is a figure (logged here), not a test.
    await waitFor(async () => (await health(b)).components.cluster.leader, TTL * 10, 'b to take over');
    const took = Date.now() - killedAt;
    t.diagnostic(`takeover after SIGKILL of the leader: ${took} ms (lock TTL ${TTL} ms)`);
    assert.ok((await health(b)).components.cluster.fence > dead.fence);
  });

  it('keeps answering while Redis is down, says so on /health, and rejoins by itself when it returns', async (t) => {
    const redis = await startRedisServer(t);
    const a = await replica(t, redis.url);
    const b = await replica(t, redis.url);
    assert.equal((await write(a.url, line({ pop: 'FRA', ms: 120, t: Date.now() }))).status, 204);
    assert.equal((await getJson(`${a.url}/api/dashboard/overview?window=5m`)).body.samples, 1);

    await redis.stop({ crash: true });
    for (const r of [a, b]) {
      await waitFor(async () => (await health(r)).components.cache.status === 'degraded', 5000, 'cache degraded');
      const h = await health(r);
      assert.match(h.components.cache.reason, /redis/);
      assert.equal(h.components.cluster.status, 'degraded');
      assert.equal(h.components.cluster.leader, false, 'nobody leads without Redis');
      assert.equal((await getJson(`${r.url}/api/heatmap?window=5m`)).status, 200);
      assert.equal((await getJson(`${r.url}/api/pops/FRA/timeseries`)).status, 200);
    }
    // Writes and reads go on, each replica on its own.
    assert.equal((await write(a.url, line({ pop: 'FRA', ms: 180, t: Date.now() }))).status, 204);
    const during = await getJson(`${a.url}/api/dashboard/overview?window=5m`);
    assert.equal(during.status, 200);
    assert.equal(during.body.samples, 2, 'never older than the data, even on the fallback cache');

    await redis.start();
    for (const r of [a, b]) {
      await waitFor(async () => {
        const h = await health(r);
        return h.components.cache.status === 'ok' && h.components.cluster.status === 'ok';
      }, 8000, 'the replica to rejoin');
    }
    const onB = await wsClient(t, b.url);
    assert.equal((await write(a.url, line({ pop: 'AMS', ms: 90, t: Date.now() }))).status, 204);
    await waitFor(() => onB.of('metrics_update').length === 1, 5000, 'fan-out again after the outage');
    await waitFor(async () => (await leaderOf(a, b)).length === 1, TTL * 2, 'a leader again');
    assert.equal((await getJson(`${a.url}/api/dashboard/overview?window=5m`)).body.samples, 3);
  });
});
