import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig, parseDuration } from './config.ts';

describe('config', () => {
  it('has documented defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 8080);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.metricsStore, 'embedded');
    assert.deepEqual(c.status, { warnMs: 200, critMs: 400 });
    assert.equal(c.generator.enabled, true);
    assert.equal(c.generator.intervalMs, 10_000);
    assert.equal(c.generator.seed, undefined);
    assert.equal(c.retentionMs, 7 * 86_400_000);
    assert.equal(c.apiToken, undefined);
    assert.ok(c.dataDir.endsWith('/data'));
  });

  it('reads every variable it documents', () => {
    const c = loadConfig({
      PORT: '9000', HOST: '0.0.0.0', DATA_DIR: '/srv/ewm', GENERATOR: 'off', GENERATOR_INTERVAL_MS: '2000', GENERATOR_SEED: '7',
      STATUS_WARN_MS: '150', STATUS_CRIT_MS: '300', RETENTION: '12h', API_TOKEN: ' t0k ', LOG_LEVEL: 'debug', QUERY_MAX_POINTS: '500',
    });
    assert.equal(c.port, 9000);
    assert.equal(c.host, '0.0.0.0');
    assert.equal(c.dataDir, '/srv/ewm');
    assert.equal(c.generator.enabled, false);
    assert.equal(c.generator.intervalMs, 2000);
    assert.equal(c.generator.seed, 7);
    assert.deepEqual(c.status, { warnMs: 150, critMs: 300 });
    assert.equal(c.retentionMs, 12 * 3_600_000);
    assert.equal(c.apiToken, 't0k');
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.query.maxPoints, 500);
  });

  it('stops on a bad value with one line naming the variable and what it accepts', () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'eighty' }, /^PORT=eighty is invalid: expected an integer from 0 to 65535$/],
      [{ PORT: '70000' }, /^PORT=70000/],
      [{ GENERATOR: 'yes' }, /^GENERATOR=yes is invalid: expected one of on, off$/],
      [{ GENERATOR_INTERVAL_MS: '10' }, /^GENERATOR_INTERVAL_MS=10 is invalid: expected an integer >= 100$/],
      [{ METRICS_STORE: 'sqlite' }, /^METRICS_STORE=sqlite is invalid: expected one of embedded, influxdb$/],
      [{ METRICS_STORE: 'influxdb' }, /not available in this version yet/],
      [{ STATUS_WARN_MS: '500', STATUS_CRIT_MS: '400' }, /STATUS_CRIT_MS must be greater than STATUS_WARN_MS/],
      [{ RETENTION: 'forever' }, /^RETENTION=forever is invalid: expected a duration/],
      [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL=loud is invalid/],
    ];
    for (const [env, message] of cases) {
      assert.throws(() => loadConfig(env), (err: Error) => err instanceof ConfigError && message.test(err.message), JSON.stringify(env));
    }
  });

  it('names SPEC variables that are set but not acted on yet', () => {
    assert.deepEqual(loadConfig({}).notYetSupported, []);
    assert.deepEqual(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', SMTP_URL: ' ' }).notYetSupported, ['REDIS_URL']);
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
