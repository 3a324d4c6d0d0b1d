import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseDuration } from './config.ts';
import { detectorSettings } from './detector/engine.ts';

describe('config', () => {
  it('has documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.metricsStore, 'embedded');
    assert.deepEqual(c.status, { warnMs: 200, critMs: 400, functions: {} });
    assert.equal(c.detector.schedule, '2-59/10 * * * * *');
    assert.equal(c.detector.stepMs, 10_000);
    assert.equal(c.detector.noDataAfterMs, 3 * 60_000);
    assert.equal(c.generator.enabled, true);
    assert.equal(c.generator.intervalMs, 10_000);
    assert.equal(c.generator.seed, undefined);
    assert.equal(c.retentionMs, 7 * 86_400_000);
    assert.deepEqual(c.rollups, { retention1mMs: 7 * 86_400_000, retention1hMs: 90 * 86_400_000 });
    assert.equal(c.apiToken, undefined);
    assert.ok(c.dataDir.endsWith('/data'));
  });

  it('bounds the embedded store\'s DuckDB memory and warms a week at start by default (DUCKDB_MEMORY_LIMIT, DUCKDB_WARM_WINDOW)', () => {
    assert.deepEqual(loadConfig({}).duckdb, { memoryLimitBytes: 192e6, warmBlocksMs: 7 * 86_400_000 });
    assert.deepEqual(loadConfig({ DUCKDB_MEMORY_LIMIT: '1GiB', DUCKDB_WARM_WINDOW: '24h' }).duckdb, { memoryLimitBytes: 2 ** 30, warmBlocksMs: 86_400_000 });
    assert.equal(loadConfig({ DUCKDB_MEMORY_LIMIT: '512 mb' }).duckdb.memoryLimitBytes, 512e6);
    assert.equal(loadConfig({ DUCKDB_MEMORY_LIMIT: 'auto' }).duckdb.memoryLimitBytes, undefined);
    // The documented floor itself is accepted (it was refused: the check was 64 MiB, 67.1e6 bytes).
    assert.equal(loadConfig({ DUCKDB_MEMORY_LIMIT: '64MB' }).duckdb.memoryLimitBytes, 64e6);
    for (const bad of ['lots', '12', '10MB', '-1GB', '63MB']) {
      assert.throws(() => loadConfig({ DUCKDB_MEMORY_LIMIT: bad }), new RegExp(`DUCKDB_MEMORY_LIMIT=${bad} is invalid: expected a size of at least 64MB`));
    }
  });

  it('sends a WebSocket heartbeat every 5 s and holds 1,000 live clients by default (WS_HEARTBEAT_INTERVAL_MS, WS_MAX_CLIENTS)', () => {
    const live = loadConfig({}).live;
    assert.equal(live.heartbeatIntervalMs, 5_000);
    assert.equal(live.maxClients, 1_000);
    assert.deepEqual(
      (({ heartbeatIntervalMs, maxClients }) => ({ heartbeatIntervalMs, maxClients }))(loadConfig({ WS_HEARTBEAT_INTERVAL_MS: '1000', WS_MAX_CLIENTS: '3' }).live),
      { heartbeatIntervalMs: 1_000, maxClients: 3 },
    );
    for (const [env, message] of [
      [{ WS_HEARTBEAT_INTERVAL_MS: '999' }, /^WS_HEARTBEAT_INTERVAL_MS=999 is invalid: expected an integer from 1000 to 60000$/],
      [{ WS_HEARTBEAT_INTERVAL_MS: '5s' }, /^WS_HEARTBEAT_INTERVAL_MS=5s is invalid/],
      [{ WS_HEARTBEAT_INTERVAL_MS: '60001' }, /^WS_HEARTBEAT_INTERVAL_MS=60001 is invalid/],
      [{ WS_MAX_CLIENTS: '0' }, /^WS_MAX_CLIENTS=0 is invalid: expected an integer from 1 to 1000000$/],
      [{ WS_MAX_CLIENTS: 'lots' }, /^WS_MAX_CLIENTS=lots is invalid/],
    ] as const) {
      assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
  });

  it('keeps the detector snapshot in DATA_DIR unless DETECTOR_SNAPSHOT=off', () => {
    assert.equal(loadConfig({ DATA_DIR: '/srv/ewm' }).detector.snapshotPath, '/srv/ewm/detector-snapshot.bin');
    assert.equal(loadConfig({ DATA_DIR: '/srv/ewm', DETECTOR_SNAPSHOT: 'off' }).detector.snapshotPath, undefined);
    assert.throws(() => loadConfig({ DETECTOR_SNAPSHOT: 'yes' }), /^ConfigError: DETECTOR_SNAPSHOT=yes is invalid: expected one of on, off$/);
  });

  it('saves the detector snapshot every 5 minutes by default (DETECTOR_SNAPSHOT_EVERY; 0/off: only at a graceful stop; at least a minute)', () => {
    assert.equal(loadConfig({}).detector.snapshotEveryMs, 5 * 60_000);
    assert.equal(loadConfig({ DETECTOR_SNAPSHOT_EVERY: '90s' }).detector.snapshotEveryMs, 90_000);
    assert.equal(loadConfig({ DETECTOR_SNAPSHOT_EVERY: '1m' }).detector.snapshotEveryMs, 60_000);
    assert.equal(loadConfig({ DETECTOR_SNAPSHOT_EVERY: 'off' }).detector.snapshotEveryMs, 0);
    assert.equal(loadConfig({ DETECTOR_SNAPSHOT_EVERY: '0' }).detector.snapshotEveryMs, 0);
    assert.equal(loadConfig({ DETECTOR_SNAPSHOT_EVERY: '0s' }).detector.snapshotEveryMs, 0);
    for (const bad of ['30s', 'often', '-5m']) {
      assert.throws(() => loadConfig({ DETECTOR_SNAPSHOT_EVERY: bad }), new RegExp(`^ConfigError: DETECTOR_SNAPSHOT_EVERY=${bad} is invalid: expected a duration of at least 1m, like 5m, or 0/off`));
    }
  });

  it('counts a function\'s wander by default (DETECTOR_WANDER=on|off), and off makes its k raise 0', () => {
    assert.equal(loadConfig({}).detector.wander, true);
    assert.equal(detectorSettings(loadConfig({}).detector).wanderK > 0, true);
    assert.equal(loadConfig({ DETECTOR_WANDER: 'off' }).detector.wander, false);
    assert.equal(detectorSettings(loadConfig({ DETECTOR_WANDER: 'off' }).detector).wanderK, 0);
    assert.throws(() => loadConfig({ DETECTOR_WANDER: 'yes' }), /^ConfigError: DETECTOR_WANDER=yes is invalid: expected one of on, off$/);
  });

  it('shares a re-derive with a worker thread where the cores allow by default (DETECTOR_REDERIVE_WORKER=auto|on|off)', () => {
    assert.equal(loadConfig({}).detector.rederiveWorker, 'auto');
    assert.equal(loadConfig({ DETECTOR_REDERIVE_WORKER: 'off' }).detector.rederiveWorker, 'off');
    assert.equal(loadConfig({ DETECTOR_REDERIVE_WORKER: 'on' }).detector.rederiveWorker, 'on');
    assert.throws(() => loadConfig({ DETECTOR_REDERIVE_WORKER: '2' }), /^ConfigError: DETECTOR_REDERIVE_WORKER=2 is invalid: expected one of auto, on, off$/);
  });

  it('keeps a follower\'s detector engine warm by default (DETECTOR_STANDBY=warm|cold)', () => {
    assert.equal(loadConfig({}).detector.standby, 'warm');
    assert.equal(loadConfig({ DETECTOR_STANDBY: 'cold' }).detector.standby, 'cold');
    assert.throws(() => loadConfig({ DETECTOR_STANDBY: 'hot' }), /^ConfigError: DETECTOR_STANDBY=hot is invalid: expected one of warm, cold$/);
  });

  it('refuses detector windows past their bounds (a unit typo such as 60d for 60m ran the first pass out of memory)', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ DETECTOR_BASELINE_WINDOW: '60d' }, /^DETECTOR_BASELINE_WINDOW=60d is invalid: expected a duration of at most 6h, like 60m/],
      [{ DETECTOR_RECENT_WINDOW: '10d' }, /^DETECTOR_RECENT_WINDOW=10d is invalid: expected a duration of at most 1h, like 10m/],
      [{ DETECTOR_RESOLVE_AFTER: '5000d' }, /^DETECTOR_RESOLVE_AFTER=5000d is invalid: expected a duration of at most 6h, like 5m/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
    const max = loadConfig({ DETECTOR_BASELINE_WINDOW: '6h', DETECTOR_RECENT_WINDOW: '1h', DETECTOR_RESOLVE_AFTER: '6h' }).detector;
    assert.deepEqual([max.baselineMs, max.recentMs, max.resolveAfterMs], [6 * 3_600_000, 3_600_000, 6 * 3_600_000]);
  });

  it('limits the JS heap\'s growth to 50 % over its live size by default (V8_HEAP_GROWING_PERCENT; 0: V8\'s own)', () => {
    assert.equal(loadConfig({}).v8HeapGrowingPercent, 50);
    assert.equal(loadConfig({ V8_HEAP_GROWING_PERCENT: '0' }).v8HeapGrowingPercent, 0);
    assert.equal(loadConfig({ V8_HEAP_GROWING_PERCENT: '100' }).v8HeapGrowingPercent, 100);
    for (const bad of ['-1', '1.5', 'lots']) assert.throws(() => loadConfig({ V8_HEAP_GROWING_PERCENT: bad }), /V8_HEAP_GROWING_PERCENT=.* is invalid/);
  });

  it('reads every variable it documents', () => {
    const c = loadConfig({
      PORT: '9000', HOST: '0.0.0.0', DATA_DIR: '/srv/ewm', GENERATOR: 'off', GENERATOR_INTERVAL_MS: '2000', GENERATOR_SEED: '7',
      STATUS_WARN_MS: '150', STATUS_CRIT_MS: '300', STATUS_THRESHOLDS: 'ssr-render=400:800, auth-check=60:120', NO_DATA_AFTER: '5m', DETECTOR_STEP: '5s', RETENTION: '12h', RETENTION_1M: '2d', RETENTION_1H: '30d', API_TOKEN: ' t0k ', LOG_LEVEL: 'debug', QUERY_MAX_POINTS: '500',
    });
    assert.equal(c.port, 9000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.dataDir, '/srv/ewm');
    assert.equal(c.generator.enabled, false);
    assert.equal(c.generator.intervalMs, 2000);
    assert.equal(c.generator.seed, 7);
    assert.deepEqual(c.status, { warnMs: 150, critMs: 300, functions: { 'ssr-render': { warnMs: 400, critMs: 800 }, 'auth-check': { warnMs: 60, critMs: 120 } } });
    assert.equal(c.detector.noDataAfterMs, 5 * 60_000);
    assert.equal(c.detector.stepMs, 5000);
    assert.equal(c.retentionMs, 12 * 3_600_000);
    assert.deepEqual(c.rollups, { retention1mMs: 2 * 86_400_000, retention1hMs: 30 * 86_400_000 });
    assert.equal(c.apiToken, 't0k');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.query.maxPoints, 500);
  });

  it('stops on a bad value with one line naming the variable and what it accepts', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /^PORT=eighty is invalid: expected an integer from 0 to 65535$/],
      [{ STATUS_THRESHOLDS: 'ssr-render=800:400' }, /^STATUS_THRESHOLDS is invalid: "ssr-render=800:400": expected 0 < warn < crit/],
      [{ STATUS_THRESHOLDS: 'ssr-render:400' }, /^STATUS_THRESHOLDS is invalid: "ssr-render:400" is not function=warn:crit/],
      [{ NO_DATA_AFTER: '10s' }, /^NO_DATA_AFTER=10s is invalid: expected at least two DETECTOR_STEPs/],
      [{ DETECTOR_BASELINE_WINDOW: '2m' }, /^DETECTOR_BASELINE_WINDOW=2m is invalid: the baseline needs at least 20 buckets of DETECTOR_STEP \(10s\)/],
      [{ PORT: '70000' }, /^PORT=70000/],
      [{ GENERATOR: 'yes' }, /^GENERATOR=yes is invalid: expected one of on, off$/],
      [{ GENERATOR_INTERVAL_MS: '10' }, /^GENERATOR_INTERVAL_MS=10 is invalid: expected an integer from 100 to 2147483647$/],
      [{ METRICS_STORE: 'sqlite' }, /^METRICS_STORE=sqlite is invalid: expected one of embedded, influxdb$/],
      [{ METRICS_STORE: 'influxdb' }, /^INFLUX_URL is required when METRICS_STORE=influxdb: expected a URL starting with http: or https:\/\/$/],
      [{ METRICS_STORE: 'influxdb', INFLUX_URL: 'localhost:8086' }, /^INFLUX_URL=localhost:8086 is invalid: expected a URL/],
      [{ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_TOKEN: 't', INFLUX_USERNAME: 'u', INFLUX_PASSWORD: 'p' }, /not both$/],
      [{ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_USERNAME: 'u' }, /set both or neither$/],
      [{ ALERT_STORE: 'mongodb' }, /^MONGODB_URL is required when ALERT_STORE=mongodb/],
      [{ REDIS_URL: 'http://h:6379' }, /^REDIS_URL=http:\/\/h:6379 is invalid: expected a URL starting with redis: or rediss:/],
      [{ DETECTOR_SCHEDULE: '61 * * * *' }, /^DETECTOR_SCHEDULE=61 \* \* \* \* is invalid: .*minute.*expected a cron expression/],
      [{ DETECTOR_SCHEDULE: 'every minute' }, /^DETECTOR_SCHEDULE=every minute is invalid/],
      [{ SMTP_URL: 'smtp://127.0.0.1:25' }, /^ALERT_EMAIL_TO is required when SMTP_URL is set/],
      [{ SMTP_URL: 'smtp://127.0.0.1:25', ALERT_EMAIL_TO: 'ops@example.com, nobody' }, /^ALERT_EMAIL_TO contains nobody/],
      [{ SMTP_URL: 'smtp://u:secret@127.0.0.1:25x', ALERT_EMAIL_TO: 'a@b.c' }, /^SMTP_URL=smtp:\/\/u:\*\*\*@127/],
      [{ STATUS_WARN_MS: '500', STATUS_CRIT_MS: '400' }, /STATUS_CRIT_MS must be greater than STATUS_WARN_MS/],
      [{ RETENTION: 'forever' }, /^RETENTION=forever is invalid: expected a duration/],
      [{ DUCKDB_WARM_WINDOW: '99999999999999d' }, /^DUCKDB_WARM_WINDOW=99999999999999d is invalid: expected a duration like 30s, 15m, 12h or 7d, at most 36500d/],
      [{ RETENTION: '99999999999999999999d' }, /^RETENTION=99999999999999999999d is invalid: expected a duration like 30s, 15m, 12h or 7d, at most 36500d/],
      [{ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_ROLLUP_INTERVAL: '500ms' }, /^INFLUX_ROLLUP_INTERVAL=500ms is invalid: expected a duration from 1s to 24d/],
      [{ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_ROLLUP_INTERVAL: '0s' }, /^INFLUX_ROLLUP_INTERVAL=0s is invalid: expected a duration from 1s to 24d/],
      // Past Node's longest timer (2^31 - 1 ms) a timer fires after 1 ms: pings, polls and passes back to back.
      [{ WS_PING_INTERVAL_MS: '99999999999' }, /^WS_PING_INTERVAL_MS=99999999999 is invalid: expected an integer from 100 to 2147483647$/],
      [{ GENERATOR_INTERVAL_MS: '2147483648' }, /^GENERATOR_INTERVAL_MS=2147483648 is invalid: expected an integer from 100 to 2147483647$/],
      [{ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_POLL_INTERVAL_MS: '2147483648' }, /^INFLUX_POLL_INTERVAL_MS=2147483648 is invalid: expected an integer from 100 to 2147483647$/],
      [{ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_ROLLUP_INTERVAL: '30d' }, /^INFLUX_ROLLUP_INTERVAL=30d is invalid: expected a duration from 1s to 24d/],
      [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL=loud is invalid/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
  });

  it('reads the store, detector and notification settings', () => {
    const c = loadConfig({
      METRICS_STORE: 'influxdb', INFLUX_URL: 'http://127.0.0.1:8086/', INFLUX_DB: 'edge', INFLUX_TOKEN: 'tok', INFLUX_TIMEOUT_MS: '2500',
      ALERT_STORE: 'mongodb', MONGODB_URL: 'mongodb://127.0.0.1:27017/ewm', REDIS_URL: 'redis://127.0.0.1:6379',
      DETECTOR_SCHEDULE: '*/30 * * * * *', SMTP_URL: 'smtp://127.0.0.1:2525', ALERT_EMAIL_TO: 'ops@example.com, sre@example.com',
      ALERT_EMAIL_FROM: 'Monitor <monitor@example.com>', SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/x', ALERT_WEBHOOK_URL: 'http://127.0.0.1:9/hook',
    });
    assert.equal(c.metricsStore, 'influxdb');
    assert.deepEqual(c.influx, { url: 'http://127.0.0.1:8086', db: 'edge', token: 'tok', username: undefined, password: undefined, timeoutMs: 2500, pollIntervalMs: 1000,
      rollups: { intervalMs: 10_000, lookbackMs: 7 * 86_400_000, rawMaxMs: 3_600_000, retention1mMs: 7 * 86_400_000, retention1hMs: 90 * 86_400_000 },
    });
    const off = loadConfig({ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_ROLLUPS: 'off' });
    assert.equal(off.influx!.rollups, undefined);
    assert.deepEqual(loadConfig({ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_ROLLUP_LOOKBACK: '2d', INFLUX_ROLLUP_RAW_MAX: '30m' }).influx!.rollups,
      { intervalMs: 10_000, lookbackMs: 2 * 86_400_000, rawMaxMs: 1_800_000, retention1mMs: 7 * 86_400_000, retention1hMs: 90 * 86_400_000 });
    // RETENTION_1M/RETENTION_1H are the rollups' retention policies on InfluxDB too (0 keeps everything); InfluxDB wants at least 1h.
    assert.deepEqual(loadConfig({ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', RETENTION_1M: '2d', RETENTION_1H: '0d' }).influx!.rollups,
      { intervalMs: 10_000, lookbackMs: 7 * 86_400_000, rawMaxMs: 3_600_000, retention1mMs: 2 * 86_400_000, retention1hMs: 0 });
    assert.throws(() => loadConfig({ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', RETENTION_1M: '30m' }), /RETENTION_1M .*at least 1h/);
    assert.throws(() => loadConfig({ METRICS_STORE: 'influxdb', INFLUX_URL: 'http://h:8086', INFLUX_ROLLUP_LOOKBACK: 'week' }), /INFLUX_ROLLUP_LOOKBACK=week is invalid/);
    assert.equal(c.alertStore, 'mongodb');
    assert.equal(c.mongodbUrl, 'mongodb://127.0.0.1:27017/ewm');
    assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
    assert.equal(c.detector.schedule, '*/30 * * * * *');
    assert.deepEqual(c.notify.emailTo, ['ops@example.com', 'sre@example.com']);
    assert.equal(c.notify.slackWebhookUrl, 'https://hooks.slack.com/services/x');
    assert.deepEqual(c.ignoredVariables, []);
  });

  it('names variables that are set but have no effect with the chosen stores', () => {
    assert.deepEqual(loadConfig({}).ignoredVariables, []);
    assert.deepEqual(loadConfig({ INFLUX_URL: 'http://127.0.0.1:8086', MONGODB_URL: 'mongodb://x', ALERT_EMAIL_TO: 'a@b.c', SMTP_URL: ' ', REDIS_LOCK_TTL_MS: '5000' }).ignoredVariables, ['INFLUX_URL', 'MONGODB_URL', 'ALERT_EMAIL_TO', 'REDIS_LOCK_TTL_MS']);
  });

  it('parses durations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('10s'), 10_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('5'), null);
    assert.equal(parseDuration('-5m'), null);
    assert.equal(parseDuration('1.5h'), null);
  });
});
