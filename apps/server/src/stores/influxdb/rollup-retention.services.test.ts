/**
 * Retention per resolution on a real influxd: the keeper puts the rollups into their
 * own retention policies (RETENTION_1M, RETENTION_1H), changes them when the settings
 * change, never writes what a policy would refuse, and, with a user who may not create
 * policies, says what to run and leaves the answers raw until someone does.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MEASUREMENT } from '@edgeworker/schema';
import { startInfluxd, useInfluxdForFile } from '../../testing/influxd.ts';
import { createSingleLeadership } from '../../cluster/leadership.ts';
import { createInfluxDbMetricsStore } from './influxdb-metrics-store.ts';
import { createInfluxClient, type InfluxClient } from './influx-client.ts';
import { createRollupKeeper } from './rollup-keeper.ts';
import { ROLLUP_1H, ROLLUP_1M, RP_1H, RP_1M } from './rollup-agg.ts';
import { parseGoDuration, type RollupRetention } from './rollup-retention.ts';

const influxd = useInfluxdForFile();
const H = 3_600_000;
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

/** Samples every 10 s for two series, ending now (real clock: retention policies use it). */
async function writeRecent(client: InfluxClient, hours: number) {
  const end = Math.floor(Date.now() / 10_000) * 10_000;
  const lines: string[] = [];
  for (let t = end - hours * H; t < end; t += 10_000) {
    for (const pop of ['FRA', 'AMS']) lines.push(`${MEASUREMENT},pop_code=${pop},function_name=api cold_start_time_ms=${100 + (t % 7)} ${ns(t)}`);
  }
  for (let i = 0; i < lines.length; i += 5000) await client.writeLines(lines.slice(i, i + 5000).join('\n'));
  return lines.length;
}

async function policies(client: InfluxClient, db: string) {
  const [res] = await client.query([`SHOW RETENTION POLICIES ON "${db}"`]);
  const s = res![0]!;
  return new Map(s.values.map((row) => [String(row[s.columns.indexOf('name')]), parseGoDuration(String(row[s.columns.indexOf('duration')]))]));
}

const keeperFor = (client: InfluxClient, db: string, retention: RollupRetention) =>
  createRollupKeeper({ client, leadership: createSingleLeadership('t'), intervalMs: 60_000, lookbackMs: 24 * H, sweepBudgetMs: 120_000, db, retention });

describe('InfluxDB rollup retention', () => {
  it('keeps each resolution in its own retention policy, follows changed settings, and writes nothing a policy refuses', async () => {
    const db = 'retention_1';
    await influxd().createDatabase(db);
    const client = createInfluxClient({ url: influxd().url, db, timeoutMs: 10_000 });
    // Four hours of raw samples, but minutes kept for three: the oldest hour must not be written into that policy.
    // (Three, not two: the keeper sweeps whole hours from 5 min inside that policy, so with two, in the
    // last 5 minutes of every hour no closed hour lay inside it and this test failed at those times.)
    await writeRecent(client, 4);
    const keeper = keeperFor(client, db, { retention1mMs: 3 * H, retention1hMs: 30 * 24 * H });
    const r = await keeper.pass();
    assert.ok(r.ran && r.minutes > 0 && r.hours > 0, `nothing rolled up: minutes ${r.minutes}, hours ${r.hours}`);
    let rps = await policies(client, db);
    assert.equal(rps.get(RP_1M), 3 * H);
    assert.equal(rps.get(RP_1H), 30 * 24 * H);
    assert.ok(r.coverage!.coveredFromNs >= ns(Date.now() - 3 * H), 'coverage reaches past what the 1 min policy keeps');
    const health = keeper.health();
    assert.equal(health.status, 'ok', JSON.stringify(health));
    assert.deepEqual(health.retentionPolicies, { [RP_1M]: 3 * H, [RP_1H]: 30 * 24 * H });

    // The rollups are in their policies, not in the database's default one.
    const count = async (from: string) => {
      const [res] = await client.query([`SELECT count("n") AS c FROM ${from}`]);
      return Number(res?.[0]?.values[0]?.[1] ?? 0);
    };
    assert.ok((await count(`"${RP_1M}"."${ROLLUP_1M}"`)) > 0);
    assert.ok((await count(`"${RP_1H}"."${ROLLUP_1H}"`)) > 0);
    assert.equal(await count(`"autogen"."${ROLLUP_1M}"`), 0);
    assert.equal(await count(`"autogen"."${ROLLUP_1H}"`), 0);

    // The store reads them: a window within what the minutes keep is answered from rollups, every sample counted.
    const store = await createInfluxDbMetricsStore({ url: influxd().url, db, timeoutMs: 10_000, rollups: { rawMaxMs: 10 * 60_000, coverageTtlMs: 0 } });
    const to = Date.now();
    const range = { fromNs: ns(to - 50 * 60_000), toNs: ns(to) };
    const [rolled, exact] = await Promise.all([store.summarize(range), client.query([`SELECT count("cold_start_time_ms") FROM "${MEASUREMENT}" WHERE time >= ${range.fromNs} AND time < ${range.toNs}`])]);
    assert.notEqual(rolled.resolution, 'raw');
    assert.equal(rolled.overall.samples, exact[0]![0]!.values[0]![1]);

    // Changed settings: the next keeper (a restart) alters the policies.
    await keeperFor(client, db, { retention1mMs: 4 * H, retention1hMs: 0 }).pass();
    rps = await policies(client, db);
    assert.equal(rps.get(RP_1M), 4 * H);
    assert.equal(rps.get(RP_1H), 0); // INF
  });

  it('with a user who may not create policies: degraded health that says what to run, raw answers, and recovery once an admin ran it', async (t) => {
    const authed = await startInfluxd(t, { authEnabled: true });
    const db = 'retention_2';
    const admin = createInfluxClient({ url: authed.url, db, timeoutMs: 10_000, username: 'admin', password: 'adminpw' });
    // The first user may be created without credentials; after that every request needs them.
    await createInfluxClient({ url: authed.url, db, timeoutMs: 10_000 }).query([`CREATE USER "admin" WITH PASSWORD 'adminpw' WITH ALL PRIVILEGES`]);
    await admin.query([`CREATE DATABASE "${db}"`, `CREATE USER "writer" WITH PASSWORD 'writerpw'`, `GRANT ALL ON "${db}" TO "writer"`]);
    const writer = createInfluxClient({ url: authed.url, db, timeoutMs: 10_000, username: 'writer', password: 'writerpw' });
    await writeRecent(writer, 2);

    const keeper = keeperFor(writer, db, { retention1mMs: 7 * 24 * H, retention1hMs: 90 * 24 * H });
    await assert.rejects(keeper.pass(), /admin rights.*CREATE RETENTION POLICY "rollup_1m"/s);
    const h = keeper.health();
    assert.equal(h.status, 'degraded');
    assert.match(String(h.error), /CREATE RETENTION POLICY "rollup_1h" ON "retention_2" DURATION 7776000000ms/);
    // Answers stay right, from raw samples.
    const store = await createInfluxDbMetricsStore({ url: authed.url, db, timeoutMs: 10_000, username: 'writer', password: 'writerpw', rollups: { rawMaxMs: H, coverageTtlMs: 0 } });
    const to = Date.now();
    assert.equal((await store.summarize({ fromNs: ns(to - 1.5 * H), toNs: ns(to) })).resolution, 'raw');

    // An admin runs what the error said; the next pass works and health is ok again.
    const statements = [...String(h.error).split('as an admin:')[1]!.matchAll(/CREATE RETENTION POLICY [^;]+/g)].map((m) => m[0]);
    assert.equal(statements.length, 2);
    await admin.query(statements);
    const r = await keeper.pass();
    assert.ok(r.ran && r.minutes > 0);
    assert.equal(keeper.health().status, 'ok');
    assert.notEqual((await store.summarize({ fromNs: ns(to - 1.5 * H), toNs: ns(to) })).resolution, 'raw');
  });
});
