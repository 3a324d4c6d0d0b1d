/**
 * The server's configuration: read from the environment once, validated, typed,
 * and passed down. Nothing else in the server reads process.env. A bad value
 * stops start-up with one line naming the variable and what it accepts.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Cron } from 'croner';
import { parseInjection, type Injection } from '@edgeworker/generator';
import { FUNCTIONS, findPop } from '@edgeworker/pops';
import { parseStatusThresholds } from './query/status.ts';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  metricsStore: 'embedded' | 'influxdb';
  /** Present when metricsStore is 'influxdb'. */
  influx: InfluxConfig | undefined;
  alertStore: 'embedded' | 'mongodb';
  /** Present when alertStore is 'mongodb'. */
  mongodbUrl: string | undefined;
  /** When set: shared cache, cross-replica fan-out and the detector leader lock. */
  redisUrl: string | undefined;
  /** Detector leader lock expiry with Redis; renewed every third of it (REDIS_LOCK_TTL_MS). */
  redisLockTtlMs: number;
  detector: DetectorConfig;
  notify: NotifyConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  apiToken: string | undefined;
  /** warnMs/critMs for functions without their own pair; functions: STATUS_THRESHOLDS (over the catalog's defaults). */
  status: { warnMs: number; critMs: number; functions: Record<string, { warnMs: number; critMs: number }> };
  ingest: { maxBodyBytes: number; maxInflightBytes: number; maxLines: number; maxLineBytes: number; maxPops: number; maxFunctions: number; maxSeries: number };
  query: { maxPoints: number; defaultWindow: string };
  retentionMs: number;
  /**
   * V8's heap growing factor as a percentage over the live heap (V8_HEAP_GROWING_PERCENT; 0: V8's
   * own, up to 4x on a machine with a few GB): how much garbage the JS heap may hold before a
   * full collection (docs/notes/rss-5.md).
   */
  v8HeapGrowingPercent: number;
  /** Rollup retention per resolution (RETENTION_1M, RETENTION_1H); 0 keeps everything. */
  rollups: { retention1mMs: number; retention1hMs: number };
  /** The embedded metrics store's DuckDB (week bench, docs/notes/week.md): buffer-pool bound and how much history is warmed at start. */
  duckdb: { memoryLimitBytes: number | undefined; warmBlocksMs: number };
  /**
   * The WebSocket hub: heartbeatIntervalMs (WS_HEARTBEAT_INTERVAL_MS) is how often every client gets
   * a `heartbeat` (the dashboard calls the server stale after three silent intervals); maxClients
   * (WS_MAX_CLIENTS) how many live clients one process holds before it refuses more (close 1013).
   */
  live: { coalesceMs: number; pingIntervalMs: number; maxBufferedBytes: number; heartbeatIntervalMs: number; maxClients: number };
  generator: {
    enabled: boolean;
    intervalMs: number;
    seed: number | undefined;
    maxBufferedPoints: number;
    /** GENERATOR_INJECT: latency injections in the generator CLI's --inject syntax (validated here, resolved at generator start). */
    inject: string[];
    /** GENERATOR_BACKFILL: history (ms) written at start, as fast as the store takes it, before live generation; 0 = none. */
    backfillMs: number;
  };
  webDistDir: string;
  /** Hostile-input limits (issue 15): the query cache's size, HTTP timeouts, cross-origin access. */
  hardening: HardeningConfig;
  // Operations (issue 14): tracing and who may read.
  /** OpenTelemetry tracing; undefined (off, no cost) unless an OTLP endpoint is set. */
  otel: OtelConfig | undefined;
  /** VIEWER_TOKEN: when set, reads (API, /ws, /health details) need it or API_TOKEN; it never writes. */
  viewerToken: string | undefined;
  /** METRICS_TOKEN: when set, /metrics needs it (or API_TOKEN). */
  metricsToken: string | undefined;
  /** Variables that are set but have no effect with the chosen stores (warned about at start). */
  ignoredVariables: string[];
}

export interface HardeningConfig {
  /** Bytes the query cache keeps in memory (JSON length of the answers), CACHE_MAX_BYTES. */
  cacheMaxBytes: number;
  /** Largest answer the cache keeps (memory and Redis), CACHE_MAX_ENTRY_BYTES. */
  cacheMaxEntryBytes: number;
  /** Whole request, headers and body, must arrive within this (HTTP_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs: number;
  /** Request headers must arrive within this (HTTP_HEADERS_TIMEOUT_MS). */
  headersTimeoutMs: number;
  /** Browser origins allowed to call the API cross-origin (CORS_ORIGINS); `*` any; empty: none. */
  corsOrigins: string[] | '*';
}

export interface InfluxConfig {
  /** Base URL, e.g. http://127.0.0.1:8086 (no path). */
  url: string;
  /** Database (1.x) or bucket through its DBRP mapping (2.x/3.x). */
  db: string;
  token: string | undefined;
  username: string | undefined;
  password: string | undefined;
  /** Per-query timeout; the request is aborted when it passes. */
  timeoutMs: number;
  /** How often the newest-sample watermark is polled to notice data written by others. */
  pollIntervalMs: number;
  /** Rollups kept in InfluxDB by the leader (stores/influxdb/rollup-keeper.ts); absent with INFLUX_ROLLUPS=off. */
  rollups: InfluxRollupConfig | undefined;
}

/** InfluxDB refuses retention policies shorter than an hour; 0 (keep everything) is INF. */
function influxRetention(retention: { retention1mMs: number; retention1hMs: number }) {
  for (const [name, ms] of [['RETENTION_1M', retention.retention1mMs], ['RETENTION_1H', retention.retention1hMs]] as const) {
    if (ms > 0 && ms < 3_600_000) throw new ConfigError(`${name} is ${ms} ms: with METRICS_STORE=influxdb it is a retention policy, which InfluxDB wants at least 1h long (0d keeps everything)`);
  }
  return retention;
}

/** INFLUX_ROLLUP_INTERVAL, at least 1 s (a smaller value was raised to 1 s without a word). */
function rollupInterval(r: Reader): number {
  const ms = r.duration('INFLUX_ROLLUP_INTERVAL', '10s');
  if (ms < 1000 || ms > MAX_TIMER_MS) throw new ConfigError(`INFLUX_ROLLUP_INTERVAL=${r.raw('INFLUX_ROLLUP_INTERVAL')} is invalid: expected a duration from 1s to 24d, like 10s`);
  return ms;
}

export interface InfluxRollupConfig {
  /** Retention policies of the rollup measurements (RETENTION_1M: 1 min and 10 min; RETENTION_1H: 1 h); 0 keeps everything. */
  retention1mMs: number;
  retention1hMs: number;
  /** Pause between keeper passes (INFLUX_ROLLUP_INTERVAL). */
  intervalMs: number;
  /** How far back the keeper sweeps for late data (INFLUX_ROLLUP_LOOKBACK). */
  lookbackMs: number;
  /** Windows up to this long are answered from raw samples, exactly (INFLUX_ROLLUP_RAW_MAX). */
  rawMaxMs: number;
}

export interface OtelConfig {
  /** Full URL spans are POSTed to (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces). */
  tracesUrl: string;
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
  /** OTEL_EXPORTER_OTLP_HEADERS (or _TRACES_HEADERS): `k=v,k2=v2`, values URL-encoded. */
  headers: Record<string, string>;
  /** OTEL_RESOURCE_ATTRIBUTES, same syntax. */
  resourceAttributes: Record<string, string>;
}

export interface DetectorConfig {
  enabled: boolean;
  /** Cron expression (croner syntax, 5 or 6 fields), validated here. */
  schedule: string;
  /** The early looks between passes (DETECTOR_EARLY): a cron expression, or null (off). */
  early: string | null;
  /** The CUSUM's window: buckets younger than this are judged against the baseline before it. */
  recentMs: number;
  /** The baseline window, just before the recent one. */
  baselineMs: number;
  /** Smallest relative change of the median that can open an alert (0.1 = +10 %). */
  minChange: number;
  /** An alert resolves once its series has been back at baseline this long. */
  resolveAfterMs: number;
  /** Bucket width the detector reads (one bucket per sample at the generator's 10 s). */
  stepMs: number;
  /** A series (or POP, or all ingest) silent this long after reporting steadily gets a no_data alert. */
  noDataAfterMs: number;
  /**
   * DETECTOR_WANDER: a function whose latency wanders beyond its noise (measured over its series)
   * has its CUSUMs made less eager by that wander (engine.ts, wander.ts); off: never.
   */
  wander: boolean;
  /**
   * DETECTOR_REDERIVE_WORKER: a full re-derive shares its replay with a worker thread, by function
   * (detector/rederive-split.ts). auto: where the machine has the cores for it (detector-service.ts).
   */
  rederiveWorker: 'auto' | 'on' | 'off';
  /**
   * DETECTOR_SNAPSHOT: the leader saves its engine's state here at a graceful stop and the next
   * start reads on from it (DATA_DIR/detector-snapshot.bin); undefined: off.
   */
  snapshotPath: string | undefined;
  /**
   * DETECTOR_SNAPSHOT_EVERY: the leader also saves the snapshot this often while it runs, so a
   * crash restarts from one at most this old; 0: only at a graceful stop.
   */
  snapshotEveryMs: number;
  /**
   * DETECTOR_STANDBY: what a replica that does not lead does with its engine. warm: it keeps it
   * fed and evaluated every pass (reads and writes nothing else), so its first pass as a new
   * leader is an ordinary incremental one; cold: it drops it, and that first pass re-derives.
   */
  standby: 'warm' | 'cold';
}

export interface NotifyConfig {
  slackWebhookUrl: string | undefined;
  webhookUrl: string | undefined;
  smtpUrl: string | undefined;
  emailFrom: string | undefined;
  emailTo: string[];
  /** Base URL of the dashboard used in links inside notifications. */
  publicUrl: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Every 10 s, 2 s after each 10 s bucket closes (seconds 2, 12, ..., 52): a pass reads the buckets
 * closed for SETTLE_MS (detector-service.ts), so at these seconds it judges the bucket that has
 * just settled. The former default (every 10 s at seconds 0, 10, ..., 50) ran at the bucket
 * boundary, where the newest bucket had not settled yet: every bucket waited 8 s more for the
 * next pass, and every alert opened 8 s later.
 * schedule.test.ts checks this stays in step with SETTLE_MS and the default DETECTOR_STEP.
 */
export const DEFAULT_DETECTOR_SCHEDULE = '2-59/10 * * * * *';
/**
 * The early looks between passes (DetectorService.peek): every 2 s, at odd seconds, so never
 * at a pass's instant. A sample stamped at second b is judged at b + 1 or b + 2 instead of
 * after its bucket closes and settles (b + 2 to b + 12).
 */
export const DEFAULT_DETECTOR_EARLY = '1-59/2 * * * * *';

/**
 * Longest detector windows. A fresh engine (the first pass, a re-derive) reads 3 x the baseline +
 * the recent window (or the resolve-after span, if longer) and every series keeps that many buckets:
 * at the defaults 220 min; at these bounds 19 h (~5x the defaults' memory, +80 MiB at 2,115 series
 * with a 6 h baseline).
 */
const DETECTOR_MAX_BASELINE_MS = 6 * 3_600_000;
const DETECTOR_MAX_RECENT_MS = 3_600_000;
const DETECTOR_MAX_RESOLVE_AFTER_MS = 6 * 3_600_000;

export function loadConfig(env: Env = {}): Config {
  const r = new Reader(env);
  const warnMs = r.number('STATUS_WARN_MS', 200, { min: 1 });
  const critMs = r.number('STATUS_CRIT_MS', 400, { min: 1 });
  if (critMs <= warnMs) {
    throw new ConfigError(`STATUS_CRIT_MS must be greater than STATUS_WARN_MS (got ${critMs} <= ${warnMs})`);
  }
  let statusFunctions: Record<string, { warnMs: number; critMs: number }>;
  try {
    statusFunctions = parseStatusThresholds(r.raw('STATUS_THRESHOLDS') ?? '');
  } catch (err) {
    throw new ConfigError(`STATUS_THRESHOLDS is invalid: ${(err as Error).message}; expected a list like ssr-render=400:800,auth-check=60:120`);
  }
  const metricsStore = r.oneOf('METRICS_STORE', ['embedded', 'influxdb'] as const, 'embedded');
  // Rollups: 1-minute rows are kept at least as long as raw samples (a late point rebuilds its hour from them).
  // On InfluxDB the same two durations are the rollup measurements' retention policies.
  const rollupRetention = { retention1mMs: r.duration('RETENTION_1M', '7d'), retention1hMs: r.duration('RETENTION_1H', '90d') };
  const influx = metricsStore === 'influxdb' ? readInflux(r, rollupRetention) : undefined;
  const alertStore = r.oneOf('ALERT_STORE', ['embedded', 'mongodb'] as const, 'embedded');
  const mongodbUrl = alertStore === 'mongodb' ? r.url('MONGODB_URL', ['mongodb:', 'mongodb+srv:'], { required: 'ALERT_STORE=mongodb' }) : undefined;
  const redisUrl = r.url('REDIS_URL', ['redis:', 'rediss:']);
  const smtpUrl = r.url('SMTP_URL', ['smtp:', 'smtps:']);
  const emailTo = (r.raw('ALERT_EMAIL_TO') ?? '').split(',').map((a) => a.trim()).filter(Boolean);
  if (smtpUrl && emailTo.length === 0) throw new ConfigError('ALERT_EMAIL_TO is required when SMTP_URL is set: expected a comma-separated list of addresses');
  for (const a of emailTo) if (!EMAIL.test(a)) throw new ConfigError(`ALERT_EMAIL_TO contains ${a}, which is not an e-mail address`);
  const emailFrom = r.raw('ALERT_EMAIL_FROM');
  if (emailFrom !== undefined && !EMAIL.test(emailFrom.replace(/^.*<(.+)>$/, '$1'))) {
    throw new ConfigError(`ALERT_EMAIL_FROM=${emailFrom} is invalid: expected an address like monitor@example.com or "Monitor <monitor@example.com>"`);
  }
  const schedule = r.string('DETECTOR_SCHEDULE', DEFAULT_DETECTOR_SCHEDULE);
  const scheduleError = cronError(schedule);
  if (scheduleError) throw new ConfigError(`DETECTOR_SCHEDULE=${schedule} is invalid: ${scheduleError}; expected a cron expression like "* * * * *" (every minute)`);
  const earlyRaw = r.string('DETECTOR_EARLY', DEFAULT_DETECTOR_EARLY);
  const early = earlyRaw === 'off' ? null : earlyRaw;
  const earlyError = early === null ? undefined : cronError(early);
  if (earlyError) throw new ConfigError(`DETECTOR_EARLY=${earlyRaw} is invalid: ${earlyError}; expected "off" or a cron expression with seconds like "1-59/2 * * * * *" (every 2 s, at odd seconds)`);
  // The detector's bucket width and the no-data threshold (issue 13).
  const detectorStepMs = r.duration('DETECTOR_STEP', '10s');
  if (detectorStepMs < 1000 || detectorStepMs > 5 * 60_000) throw new ConfigError(`DETECTOR_STEP=${r.raw('DETECTOR_STEP')} is invalid: expected a duration from 1s to 5m, like 10s`);
  // Upper bounds: a fresh engine reads and holds 3 x baseline + recent (or resolve-after) of
  // buckets for every series, so a unit typo (60d for 60m) made the first pass read months in
  // 15-minute slices and ran the server out of memory (or hung it) instead of stopping start-up.
  const detectorWindow = (name: string, def: string, maxMs: number, max: string) => {
    const ms = r.duration(name, def);
    if (ms > maxMs) throw new ConfigError(`${name}=${r.raw(name)} is invalid: expected a duration of at most ${max}, like ${def} (the detector reads and keeps this span of buckets for every series)`);
    return ms;
  };
  const baselineWindowMs = detectorWindow('DETECTOR_BASELINE_WINDOW', '60m', DETECTOR_MAX_BASELINE_MS, '6h');
  if (baselineWindowMs < 20 * detectorStepMs) {
    throw new ConfigError(`DETECTOR_BASELINE_WINDOW=${r.raw('DETECTOR_BASELINE_WINDOW') ?? '60m'} is invalid: the baseline needs at least 20 buckets of DETECTOR_STEP (${detectorStepMs / 1000}s), so at least ${(20 * detectorStepMs) / 1000}s; or set a smaller DETECTOR_STEP`);
  }
  const recentWindowMs = detectorWindow('DETECTOR_RECENT_WINDOW', '10m', DETECTOR_MAX_RECENT_MS, '1h');
  const resolveAfterMs = detectorWindow('DETECTOR_RESOLVE_AFTER', '5m', DETECTOR_MAX_RESOLVE_AFTER_MS, '6h');
  const noDataAfterMs = r.duration('NO_DATA_AFTER', '3m');
  // 0/off: only at a graceful stop. At least a minute: a save costs 0.1-0.5 s of the passes' turn.
  const snapshotEvery = r.raw('DETECTOR_SNAPSHOT_EVERY') ?? '5m';
  const snapshotEveryMs = snapshotEvery === 'off' || snapshotEvery === '0' ? 0 : parseDuration(snapshotEvery);
  if (snapshotEveryMs === null || (snapshotEveryMs !== 0 && snapshotEveryMs < 60_000)) {
    throw new ConfigError(`DETECTOR_SNAPSHOT_EVERY=${snapshotEvery} is invalid: expected a duration of at least 1m, like 5m, or 0/off (only at a graceful stop)`);
  }
  if (noDataAfterMs < 2 * detectorStepMs) throw new ConfigError(`NO_DATA_AFTER=${r.raw('NO_DATA_AFTER')} is invalid: expected at least two DETECTOR_STEPs (${(2 * detectorStepMs) / 1000}s), like 3m`);
  const dataDir = r.path('DATA_DIR', './data');
  const token = env.API_TOKEN?.trim();
  const set = (name: string) => r.raw(name) !== undefined;
  const ignoredVariables = [
    ...(metricsStore === 'influxdb' ? [] : INFLUX_VARIABLES.filter(set)),
    ...(metricsStore === 'influxdb' ? ['DUCKDB_MEMORY_LIMIT', 'DUCKDB_WARM_WINDOW'].filter(set) : []),
    ...(alertStore === 'mongodb' ? [] : ['MONGODB_URL'].filter(set)),
    ...(smtpUrl ? [] : ['ALERT_EMAIL_FROM', 'ALERT_EMAIL_TO'].filter(set)),
    ...(redisUrl ? [] : ['REDIS_LOCK_TTL_MS'].filter(set)),
  ];
  return {
    host: r.string('HOST', '127.0.0.1'),
    port: r.int('PORT', 8080, { min: 0, max: 65535 }),
    dataDir,
    metricsStore,
    influx,
    alertStore,
    mongodbUrl,
    redisUrl,
    redisLockTtlMs: r.int('REDIS_LOCK_TTL_MS', 15_000, { min: 300, max: 600_000 }),
    detector: {
      enabled: r.oneOf('DETECTOR', ['on', 'off'] as const, 'on') === 'on',
      schedule,
      early,
      // Defaults chosen with `npm run eval:detector` (README, Regression detection).
      recentMs: recentWindowMs,
      baselineMs: baselineWindowMs,
      // 0.1: the floor under the CUSUM's confirmed findings; the false-alert rate is set by the CUSUM, not by it.
      minChange: r.number('DETECTOR_MIN_CHANGE', 0.1, { min: 0.01, max: 10 }),
      resolveAfterMs,
      stepMs: detectorStepMs,
      noDataAfterMs,
      wander: r.oneOf('DETECTOR_WANDER', ['on', 'off'] as const, 'on') === 'on',
      rederiveWorker: r.oneOf('DETECTOR_REDERIVE_WORKER', ['auto', 'on', 'off'] as const, 'auto'),
      snapshotPath: r.oneOf('DETECTOR_SNAPSHOT', ['on', 'off'] as const, 'on') === 'on' ? join(dataDir, 'detector-snapshot.bin') : undefined,
      snapshotEveryMs,
      standby: r.oneOf('DETECTOR_STANDBY', ['warm', 'cold'] as const, 'warm'),
    },
    notify: {
      slackWebhookUrl: r.url('SLACK_WEBHOOK_URL', ['http:', 'https:']),
      webhookUrl: r.url('ALERT_WEBHOOK_URL', ['http:', 'https:']),
      smtpUrl,
      emailFrom,
      emailTo,
      publicUrl: r.url('PUBLIC_URL', ['http:', 'https:']),
    },
    logLevel: r.oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
    apiToken: token ? token : undefined,
    status: { warnMs, critMs, functions: statusFunctions },
    ingest: {
      maxBodyBytes: r.int('INGEST_MAX_BODY_BYTES', 10 * 1024 * 1024, { min: 1024 }),
      // Write bodies in flight at once, by bytes (each holds ~5× its size while parsed and stored); 503 beyond.
      maxInflightBytes: r.int('INGEST_MAX_INFLIGHT_BYTES', 64 * 1024 * 1024, { min: 1024 }),
      maxLines: r.int('INGEST_MAX_LINES', 200_000, { min: 1 }),
      // A line is parsed in one go: this bounds how long one line holds the thread (~0.1 s at 256 KiB).
      maxLineBytes: r.int('INGEST_MAX_LINE_BYTES', 256 * 1024, { min: 1024 }),
      // Distinct POPs and functions the service keeps (new ones beyond get 422); the built-in catalog has 423 and 5.
      maxPops: r.int('MAX_POPS', 10_000, { min: 1 }),
      maxFunctions: r.int('MAX_FUNCTIONS', 100, { min: 1 }),
      // (POP, function) series reporting within the detector's history; each costs the detector ~11 KB.
      maxSeries: r.int('MAX_SERIES', 50_000, { min: 1 }),
    },
    query: { maxPoints: r.int('QUERY_MAX_POINTS', 2000, { min: 10 }), defaultWindow: '5m' },
    retentionMs: r.duration('RETENTION', '7d'),
    v8HeapGrowingPercent: r.int('V8_HEAP_GROWING_PERCENT', 50, { min: 0, max: 1000 }),
    rollups: rollupRetention,
    // The embedded metrics store's DuckDB: memory bound (DuckDB's own default is 80 % of the machine's RAM,
    // and its buffer pool keeps what a week's queries read) and the history warmed into memory at start.
    // 192MB (384MB, then 256MB before; docs/notes/rss-4.md, rss-5.md): the pool stays full after a week's reads,
    // and the blocks it drops are read again from the OS's page cache; at 1,000 POPs x 10 functions the reads
    // kept their times, and the server's peak RSS during the detector's first pass fell by ~60 MiB.
    duckdb: {
      memoryLimitBytes: readMemoryLimit(r, 'DUCKDB_MEMORY_LIMIT', '192MB'),
      warmBlocksMs: r.duration('DUCKDB_WARM_WINDOW', '7d'),
    },
    live: {
      coalesceMs: 1000,
      pingIntervalMs: r.int('WS_PING_INTERVAL_MS', 30_000, { min: 100, max: MAX_TIMER_MS }),
      maxBufferedBytes: r.int('WS_MAX_BUFFERED_BYTES', 1024 * 1024, { min: 1024 }),
      // At least 1 s: every client gets one per interval. At most 60 s: the dashboard waits three
      // intervals of silence before it calls the server stale, and longer is not "live".
      heartbeatIntervalMs: r.int('WS_HEARTBEAT_INTERVAL_MS', 5_000, { min: 1_000, max: 60_000 }),
      // Each client holds a socket (a file descriptor) and its share of every broadcast; 9,750
      // clients took 134 ms per broadcast in `npm run bench` (ws-fanout), so 1,000 leaves room.
      maxClients: r.int('WS_MAX_CLIENTS', 1_000, { min: 1, max: 1_000_000 }),
    },
    generator: {
      enabled: r.oneOf('GENERATOR', ['on', 'off'] as const, 'on') === 'on',
      intervalMs: r.int('GENERATOR_INTERVAL_MS', 10_000, { min: 100, max: MAX_TIMER_MS }),
      seed: env.GENERATOR_SEED === undefined || env.GENERATOR_SEED === '' ? undefined : r.int('GENERATOR_SEED', 0, {}),
      maxBufferedPoints: r.int('GENERATOR_MAX_BUFFER', 1_000_000, { min: 1 }),
      inject: readInjections(r.raw('GENERATOR_INJECT')),
      backfillMs: r.duration('GENERATOR_BACKFILL', '0s'),
    },
    webDistDir: r.path('WEB_DIST_DIR', resolve(REPO_ROOT, 'apps/web/dist')),
    hardening: readHardening(r),
    ...readOps(r, token),
    ignoredVariables,
  };
}

const INFLUX_VARIABLES = [
  'INFLUX_URL', 'INFLUX_DB', 'INFLUX_TOKEN', 'INFLUX_USERNAME', 'INFLUX_PASSWORD', 'INFLUX_TIMEOUT_MS', 'INFLUX_POLL_INTERVAL_MS',
  'INFLUX_ROLLUPS', 'INFLUX_ROLLUP_INTERVAL', 'INFLUX_ROLLUP_LOOKBACK', 'INFLUX_ROLLUP_RAW_MAX',
];
function readHardening(r: Reader): HardeningConfig {
  const cacheMaxBytes = r.int('CACHE_MAX_BYTES', 64 * 1024 * 1024, { min: 64 * 1024 });
  const cacheMaxEntryBytes = r.int('CACHE_MAX_ENTRY_BYTES', Math.min(8 * 1024 * 1024, cacheMaxBytes), { min: 1024, max: cacheMaxBytes });
  const requestTimeoutMs = r.int('HTTP_REQUEST_TIMEOUT_MS', 30_000, { min: 1000, max: 3_600_000 });
  const headersTimeoutMs = r.int('HTTP_HEADERS_TIMEOUT_MS', Math.min(10_000, requestTimeoutMs), { min: 500, max: requestTimeoutMs });
  const cors = r.raw('CORS_ORIGINS');
  let corsOrigins: string[] | '*' = [];
  if (cors === '*') corsOrigins = '*';
  else if (cors !== undefined) {
    corsOrigins = cors.split(',').map((o) => o.trim()).filter(Boolean);
    for (const o of corsOrigins) {
      let u: URL | undefined;
      try {
        u = new URL(o);
      } catch {
        // reported below
      }
      if (!u || !['http:', 'https:'].includes(u.protocol) || u.origin !== o) {
        throw new ConfigError(`CORS_ORIGINS contains ${o}, which is not an origin: expected a comma-separated list like https://grafana.example.com,http://localhost:3000 (scheme, host, port; no path), or *`);
      }
    }
  }
  return { cacheMaxBytes, cacheMaxEntryBytes, requestTimeoutMs, headersTimeoutMs, corsOrigins };
}

// Operations (issue 14): OpenTelemetry from the standard OTEL_* variables, viewer and metrics tokens.
function readOps(r: Reader, apiToken: string | undefined): Pick<Config, 'otel' | 'viewerToken' | 'metricsToken'> {
  const viewerToken = r.raw('VIEWER_TOKEN');
  const metricsToken = r.raw('METRICS_TOKEN');
  // A private dashboard with open writes would be private in name only.
  if (viewerToken && !apiToken) throw new ConfigError('VIEWER_TOKEN needs API_TOKEN: without it anyone could write and acknowledge; set API_TOKEN too');
  if (viewerToken && viewerToken === apiToken) throw new ConfigError('VIEWER_TOKEN must differ from API_TOKEN: the viewer token is read-only');
  return { otel: readOtel(r), viewerToken, metricsToken };
}

function readOtel(r: Reader): OtelConfig | undefined {
  if (r.raw('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const traces = r.url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http:', 'https:']);
  const base = r.url('OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']);
  if (!traces && !base) return undefined;
  // The spec: the generic endpoint is a base to which the signal path is appended; the per-signal one is used as is.
  const tracesUrl = traces ?? `${base!.replace(/\/+$/, '')}/v1/traces`;
  const protocol = r.raw('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? r.raw('OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new ConfigError(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: expected http/protobuf or http/json (send grpc through a collector)`);
  }
  const resourceAttributes = otelPairs(r, 'OTEL_RESOURCE_ATTRIBUTES');
  return {
    tracesUrl,
    protocol,
    serviceName: r.raw('OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'edgeworker-monitor',
    headers: { ...otelPairs(r, 'OTEL_EXPORTER_OTLP_HEADERS'), ...otelPairs(r, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS') },
    resourceAttributes,
  };
}

/** `k=v,k2=v2` with URL-encoded values, the syntax of OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES. */
function otelPairs(r: Reader, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (r.raw(name) ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${name} is invalid at "${part}": expected key=value pairs separated by commas`);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(`${name} is invalid at "${part}": the value is not URL-encoded correctly`);
    }
    out[part.slice(0, eq).trim()] = value;
  }
  return out;
}

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;

function readInflux(r: Reader, retention: { retention1mMs: number; retention1hMs: number }): InfluxConfig {
  const given = r.url('INFLUX_URL', ['http:', 'https:'], { required: 'METRICS_STORE=influxdb' })!;
  const token = r.raw('INFLUX_TOKEN');
  let username = r.raw('INFLUX_USERNAME');
  let password = r.raw('INFLUX_PASSWORD');
  // Credentials in the URL (http://user:password@host) become basic auth and leave the
  // URL, which is then safe to name in logs, errors, /health and cache key namespaces.
  const u = new URL(given);
  let url = given;
  if (u.username || u.password) {
    if (token || username !== undefined || password !== undefined) {
      throw new ConfigError('INFLUX_URL carries user:password and INFLUX_TOKEN or INFLUX_USERNAME/INFLUX_PASSWORD is set too: give the credentials once');
    }
    username = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    url = u.toString();
  }
  if (token && (username || password)) {
    throw new ConfigError('INFLUX_TOKEN and INFLUX_USERNAME/INFLUX_PASSWORD are both set: use a token (2.x/3.x) or basic auth (1.x), not both');
  }
  if ((username === undefined) !== (password === undefined)) {
    throw new ConfigError('INFLUX_USERNAME and INFLUX_PASSWORD go together: set both or neither');
  }
  return {
    url: url.replace(/\/+$/, ''),
    db: r.string('INFLUX_DB', 'edgeworker'),
    token,
    username,
    password,
    timeoutMs: r.int('INFLUX_TIMEOUT_MS', 5000, { min: 100, max: 600_000 }),
    pollIntervalMs: r.int('INFLUX_POLL_INTERVAL_MS', 1000, { min: 100, max: MAX_TIMER_MS }),
    // Rollups (issue 10): on by default; off answers everything from raw samples as before.
    rollups:
      r.oneOf('INFLUX_ROLLUPS', ['on', 'off'] as const, 'on') === 'off'
        ? undefined
        : {
            intervalMs: rollupInterval(r),
            lookbackMs: r.duration('INFLUX_ROLLUP_LOOKBACK', '7d'),
            rawMaxMs: r.duration('INFLUX_ROLLUP_RAW_MAX', '1h'),
            ...influxRetention(retention),
          },
  };
}

/**
 * GENERATOR_INJECT holds one or more --inject specs joined by `;`, like
 * "pops=FRA;functions=ssr-render;factor=2;start=+2m;duration=15m;pops=AMS;factor=3".
 * A spec's keys are unique, so a key seen again starts the next spec. Each spec is
 * parsed now (start relative to now) to fail start-up on a typo or an unknown POP or function.
 */
export function splitInjections(value: string): string[] {
  const specs: string[][] = [];
  let keys = new Set<string>();
  for (const part of value.split(';').map((p) => p.trim()).filter(Boolean)) {
    const key = part.split('=', 1)[0]!.trim();
    if (specs.length === 0 || keys.has(key)) {
      specs.push([]);
      keys = new Set();
    }
    keys.add(key);
    specs[specs.length - 1]!.push(part);
  }
  return specs.map((p) => p.join(';'));
}

function readInjections(value: string | undefined): string[] {
  if (value === undefined) return [];
  const specs = splitInjections(value);
  const fnNames = FUNCTIONS.map((f) => f.name);
  for (const spec of specs) {
    let inj: Injection;
    try {
      inj = parseInjection(spec, Date.now());
    } catch (err) {
      throw new ConfigError(`GENERATOR_INJECT is invalid: ${(err as Error).message}; expected specs like "pops=FRA;functions=ssr-render;factor=2;start=+1m;duration=15m"`);
    }
    const unknownPops = inj.pops === '*' ? [] : inj.pops.filter((c) => !findPop(c));
    const unknownFns = inj.functions === '*' ? [] : inj.functions.filter((f) => !fnNames.includes(f));
    if (unknownPops.length + unknownFns.length > 0) {
      throw new ConfigError(`GENERATOR_INJECT is invalid: unknown ${[...unknownPops.map((c) => `POP ${c}`), ...unknownFns.map((f) => `function ${f}`)].join(', ')} in "${spec}" (functions: ${fnNames.join(', ')})`);
    }
  }
  return specs;
}

/** croner throws on a bad pattern; the message says what is wrong. */
function cronError(expr: string): string | undefined {
  try {
    new Cron(expr, { paused: true }).stop();
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^CronPattern: /, '');
  }
}

/**
 * Longest period a Node timer takes (2^31 - 1 ms, ~24.8 days): a longer one fires after 1 ms, so
 * WS_PING_INTERVAL_MS=99999999999 pinged every millisecond and dropped every WebSocket client as
 * dead within 60 ms, and a poll or rollup interval past it ran back to back.
 */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Longest duration a variable takes (100 years). Past ~270,000 years a span goes beyond what a
 * Date can hold: DUCKDB_WARM_WINDOW=99999999999999d never finished its start-up warm-up (no
 * /health, no error) instead of being refused.
 */
const MAX_DURATION_MS = 36_500 * 86_400_000;

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

const SIZE_UNITS: Record<string, number> = { kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** A memory size such as `384MB` or `1GiB` in bytes, or undefined for `auto` (DuckDB's default, 80 % of RAM). */
function readMemoryLimit(r: Reader, name: string, def: string): number | undefined {
  const text = r.string(name, def);
  if (text.toLowerCase() === 'auto') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]i?b)$/i.exec(text);
  const bytes = m ? Math.floor(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!) : NaN;
  if (!(bytes >= 64 * SIZE_UNITS.mb!)) throw new ConfigError(`${name}=${text} is invalid: expected a size of at least 64MB like 384MB or 1GB, or auto (DuckDB's default: 80 % of RAM)`);
  return bytes;
}

/** Parses `500ms`, `10s`, `5m`, `1h`, `7d`; returns null when malformed. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

class Reader {
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  }

  string(name: string, def: string): string {
    return this.raw(name) ?? def;
  }

  path(name: string, def: string): string {
    const v = this.raw(name) ?? def;
    return isAbsolute(v) ? v : resolve(process.cwd(), v);
  }

  int(name: string, def: number, range: { min?: number; max?: number }): number {
    const v = this.raw(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
      throw new ConfigError(`${name}=${v} is invalid: expected an integer${describeRange(range)}`);
    }
    return n;
  }

  number(name: string, def: number, range: { min?: number; max?: number }): number {
    const v = this.raw(name);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || (range.min !== undefined && n < range.min) || (range.max !== undefined && n > range.max)) {
      throw new ConfigError(`${name}=${v} is invalid: expected a number${describeRange(range)}`);
    }
    return n;
  }

  url(name: string, protocols: string[], opts: { required?: string } = {}): string | undefined {
    const v = this.raw(name);
    if (v === undefined) {
      if (opts.required) throw new ConfigError(`${name} is required when ${opts.required}: expected a URL starting with ${protocols.join(' or ')}//`);
      return undefined;
    }
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      throw new ConfigError(`${name}=${redact(v)} is invalid: expected a URL starting with ${protocols.join(' or ')}//`);
    }
    if (!protocols.includes(u.protocol)) throw new ConfigError(`${name}=${redact(v)} is invalid: expected a URL starting with ${protocols.join(' or ')}//`);
    return v;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], def: T): T {
    const v = this.raw(name);
    if (v === undefined) return def;
    if (!(allowed as readonly string[]).includes(v)) {
      throw new ConfigError(`${name}=${v} is invalid: expected one of ${allowed.join(', ')}`);
    }
    return v as T;
  }

  duration(name: string, def: string): number {
    const v = this.raw(name) ?? def;
    const ms = parseDuration(v);
    if (ms === null || ms > MAX_DURATION_MS) throw new ConfigError(`${name}=${v} is invalid: expected a duration like 30s, 15m, 12h or 7d, at most 36500d (0d keeps everything)`);
    return ms;
  }
}

/**
 * Keeps passwords in URLs out of error messages, logs and /health: every
 * `scheme://user:secret@` (or `://:secret@`, as Redis URLs carry one) in the text
 * becomes `scheme://user:***@`.
 */
export function redact(text: string): string {
  return text.replace(/\/\/([^\s:/@]*):[^\s@/]*@/g, '//$1:***@');
}

function describeRange(r: { min?: number; max?: number }): string {
  if (r.min !== undefined && r.max !== undefined) return ` from ${r.min} to ${r.max}`;
  if (r.min !== undefined) return ` >= ${r.min}`;
  if (r.max !== undefined) return ` <= ${r.max}`;
  return '';
}
