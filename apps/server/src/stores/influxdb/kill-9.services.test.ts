/**
 * Kill -9 of influxd right after our 204s, then restart on the same files: every point
 * the server acknowledged is there (InfluxDB's WAL), so "204 means stored" holds on
 * this store too.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInfluxd } from '../../testing/influxd.ts';
import { getJson, line, startTestApp, write } from '../../testing/start-app.ts';

const BATCHES = 12;
const PER_BATCH = 250;

describe('InfluxDB store after kill -9 of influxd', () => {
  it('keeps every point acknowledged with 204 before the SIGKILL', async (t) => {
    const influxd = await startInfluxd(t);
    const db = 'kill9';
    const { url } = await startTestApp(t, { METRICS_STORE: 'influxdb', INFLUX_URL: influxd.url, INFLUX_DB: db, INFLUX_TIMEOUT_MS: '5000', DETECTOR: 'off' });
    const now = Date.now();
    let acked = 0;
    const writer = async (w: number) => {
      for (let b = w; b < BATCHES; b += 3) {
        const body = Array.from({ length: PER_BATCH }, (_, i) => line({ pop: 'KIX', fn: `fn-${b}`, ms: 10 + (i % 50), t: now - i })).join('\n');
        const r = await write(url, body);
        assert.equal(r.status, 204, JSON.stringify(r.json));
        acked += PER_BATCH;
      }
    };
    await Promise.all([0, 1, 2].map(writer));
    await influxd.stop('SIGKILL');
    await influxd.start();

    const counted = await influxd.query(db, `SELECT count(cold_start_time_ms) FROM cold_start_metrics WHERE pop_code = 'KIX'`);
    assert.equal(counted.results[0].series[0].values[0][1], acked);
    assert.equal(acked, BATCHES * PER_BATCH);
    // And through the server, once its breaker has seen influxd back.
    const kix = await getJson<{ samples: number }>(`${url}/api/pops/KIX?window=1h`);
    assert.equal(kix.body.samples, acked, JSON.stringify(kix.body));
  });
});
