/**
 * The composition root: builds the whole server from a parsed Config. It picks
 * the adapters, wires the services to each other and registers the HTTP plugins
 * in an explicit order. Tests start the real app through it.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifyWebsocket from '@fastify/websocket';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { join } from 'node:path';
import { pino, type DestinationStream, type Logger } from 'pino';
import { FUNCTIONS, POPS, findPop } from '@edgeworker/pops';
import { redact, type Config } from './config.ts';
import type { Bus } from './events.ts';
import { createCluster, type Cluster } from './cluster/cluster.ts';
import { clientErrorHandler, errorCode, frameworkErrors, MAX_PARAM_LENGTH, registerErrorHandler } from './http/errors.ts';
import { createAccess, registerReadGuard, sessionRoute } from './http/auth.ts';
import { registerSecurityHeaders } from './http/security.ts';
import { registerDocs } from './http/docs.ts';
import { startTracing, type Tracing } from './telemetry/tracing.ts';
import { traceCache, traceMetricsStore } from './telemetry/traced-ports.ts';
import { inSpan } from './telemetry/spans.ts';
import { registerWeb } from './http/web.ts';
import { registerCrossOrigin } from './http/cross-origin.ts';
import { echoRequestId, redactUrl, REDACT_PATHS, requestId, serializeRequest } from './http/request-identity.ts';
import { createIngestService, type IngestService } from './ingest/ingest-service.ts';
import { ingestRoutes } from './ingest/routes.ts';
import { createQueryService, type QueryService } from './query/query-service.ts';
import { overviewRoute } from './query/routes/overview.ts';
import { heatmapRoute } from './query/routes/heatmap.ts';
import { popsRoutes } from './query/routes/pops.ts';
import { timeseriesRoute } from './query/routes/timeseries.ts';
import { functionsRoute } from './query/routes/functions.ts';
import { parseWindow } from './query/params.ts';
import { createLiveHub, type LiveHub } from './live/hub.ts';
import { liveRoutes } from './live/routes.ts';
import { createHealthRegistry, type HealthRegistry } from './health/health.ts';
import { healthRoutes } from './health/routes.ts';
import { createServerMetrics, type ServerMetrics } from './health/metrics.ts';
import { registerHealthMetrics } from './health/health-metrics.ts';
import { createDuckDbMetricsStore } from './stores/duckdb/duckdb-metrics-store.ts';
import { createInfluxDbMetricsStore } from './stores/influxdb/influxdb-metrics-store.ts';
import { createInfluxRollupKeeper, influxRollupReads } from './stores/influxdb/rollups.ts';
import type { MetricsStore } from './stores/metrics-store.ts';
import { createResilientMetricsStore, type ResilientMetricsStore } from './stores/resilient-metrics-store.ts';
import { createMemoryCache } from './cache/memory-cache.ts';
import type { Cache } from './cache/cache.ts';
import { createCachedQueries, type CachedQueries } from './cache/cached-queries.ts';
import { withStale } from './query/routes/common.ts';
import { startWatermarkPoller } from './live/watermark-poller.ts';
import { createNotifier, type ChannelNotifier } from './notify/create-notifier.ts';
import { ownBaseUrl } from './notify/format.ts';
import { notifierHealth } from './notify/health.ts';
import { createAlertService, type RunningAlertService } from './alerts/alert-service.ts';
import { alertRoutes } from './alerts/routes.ts';
import { createDetectorService, type DetectorService } from './detector/detector-service.ts';
import { detectorSettings, historySpanMs, rederiveSpanMs } from './detector/engine.ts';
import { takeEngineSnapshot } from './detector/engine-snapshot.ts';
import { rm } from 'node:fs/promises';
import { startDetectorSchedule, type DetectorSchedule } from './detector/schedule.ts';
import { detectorRoutes } from './detector/routes.ts';
import { detectorHealth } from './detector/health.ts';
import { createDetectorMetrics } from './detector/metrics.ts';
import type { LateRederiveState } from './detector/late-rederives.ts';
import type { AlertStore } from './stores/alert-store.ts';
import { createEmbeddedAlertStore } from './stores/embedded/embedded-alert-store.ts';
import { createMongoAlertStore } from './stores/mongodb/mongodb-alert-store.ts';

export const VERSION = '0.1.0';

export interface AppOverrides {
  /** Clock in epoch ms; tests pin it. */
  now?: () => number;
  /** Where the log goes (stdout by default); tests read it. */
  logDestination?: DestinationStream;
}

export interface Services {
  log: Logger;
  store: ResilientMetricsStore;
  bus: Bus;
  cluster: Cluster;
  ingest: IngestService;
  query: QueryService;
  /** The query service through the cache: what the routes and the hub answer from. */
  cached: CachedQueries;
  /** The query cache (memory, or Redis when REDIS_URL is set). */
  cache: Cache;
  hub: LiveHub;
  health: HealthRegistry;
  metrics: ServerMetrics;
  /** Slack, e-mail and webhook notifications of opened and resolved alerts. */
  notifier: ChannelNotifier;
  alertStore: AlertStore;
  /** Raise, resolve, acknowledge and list regression alerts (the detector's way in). */
  alerts: RunningAlertService;
  /** The regression detector; absent with DETECTOR=off. */
  detector: DetectorService | undefined;
  /** OpenTelemetry tracing; absent unless an OTLP endpoint is configured. */
  tracing: Tracing | undefined;
}

export type App = FastifyInstance & { services: Services };

export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const now = overrides.now ?? Date.now;
  const startedAt = now();
  // Tokens and credentials never reach the log (see http/request-identity.ts).
  const log = pino({ level: config.logLevel, redact: REDACT_PATHS, serializers: { req: serializeRequest } }, overrides.logDestination);
  const { requestTimeoutMs, headersTimeoutMs } = config.hardening;
  const app = Fastify({
    // Fastify types its logger loosely; the services keep pino's own type.
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // The dashboard polls; one info line per request would drown the log. Requests are logged at debug below.
    logController: new LogController({ disableRequestLogging: true }),
    // Load balancers and proxies set request ids; keep theirs when they look like one.
    requestIdHeader: false,
    genReqId: requestId,
    // A client that trickles its headers or body is dropped (checked every second).
    requestTimeout: requestTimeoutMs,
    http: { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: 1000 },
    // Every POP code ingest accepts fits in its route; the router's own errors answer in our shape.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (config.ignoredVariables.length > 0) {
    log.warn({ variables: config.ignoredVariables }, 'these variables are set but have no effect with the chosen stores and channels');
  }

  // Tracing first, so every span below has a provider; with no OTLP endpoint nothing of it is loaded.
  const tracing = config.otel ? await startTracing(config.otel, VERSION) : undefined;
  if (config.otel) log.info({ url: config.otel.tracesUrl, protocol: config.otel.protocol, service: config.otel.serviceName }, 'tracing: OpenTelemetry spans are exported over OTLP/HTTP');

  // Adapters
  // Behind a circuit breaker: an unreachable store fails fast and recovers by itself.
  const inner = await openMetricsStore(config, log, now).catch(async (err) => {
    await tracing?.shutdown();
    throw err;
  });
  const breaker = createResilientMetricsStore(inner, { log: log.child({ module: 'breaker' }) });
  const store = tracing ? traceMetricsStore(breaker) : breaker;
  const alertStore = await openAlertStore(config, log).catch(async (err) => {
    await store.close();
    await tracing?.shutdown();
    throw err;
  });
  let liveClients = () => 0;
  const metrics = createServerMetrics({ liveClients: () => liveClients(), maxLiveClients: config.live.maxClients });
  // Local bus and leadership, or Redis-backed ones shared with other replicas when REDIS_URL is set.
  const cluster = createCluster(config, log);
  const bus = cluster.bus;
  // Query results: in memory, or shared in Redis; also the last-good answers while the store is down.
  const sharedCache = cluster.cache(createMemoryCache({ now, maxBytes: config.hardening.cacheMaxBytes, maxEntryBytes: config.hardening.cacheMaxEntryBytes }));
  const cache = tracing ? traceCache(sharedCache) : sharedCache;
  // Links in notifications go to PUBLIC_URL, else to this server's own address (known once it listens).
  const notifier = createNotifier(config.notify, {
    log: log.child({ module: 'notify' }),
    onOutcome: (o) => metrics.notifications.inc({ channel: o.channel, result: o.ok ? 'sent' : 'failed' }),
    baseUrl: () => config.notify.publicUrl ?? ownBaseUrl(app.server.address(), config.host, config.port),
  });
  // Every configured channel's outcomes exist from the start, at 0: a counter series born at 1
  // (the first failure after a start) has no increase() in Prometheus, so
  // EdgeworkerNotificationsFailing (docs/alerts.yml) missed a lone failed notification.
  for (const channel of notifier.channels) for (const result of ['sent', 'failed']) metrics.notifications.inc({ channel, result }, 0);

  // Services
  const alerts = createAlertService({ store: alertStore, bus, notifier, now, log: log.child({ module: 'alerts' }) });
  let lastRegressions = 0;
  const ingest = createIngestService({
    store,
    bus,
    lookupPop: findPop,
    maxLines: config.ingest.maxLines,
    maxLineBytes: config.ingest.maxLineBytes,
    maxPops: config.ingest.maxPops,
    maxFunctions: config.ingest.maxFunctions,
    maxSeries: config.ingest.maxSeries,
    // A series counts while the detector's history holds it.
    seriesWindowMs: historySpanMs(detectorSettings(config.detector)),
    now,
    retentionMs: config.retentionMs,
    log: log.child({ module: 'ingest' }),
    onStored: (n) => metrics.ingestedPoints.inc(n),
    onSkipped: (byMeasurement) => {
      let n = 0;
      for (const c of byMeasurement.values()) n += c;
      metrics.ingestSkipped.inc(n);
    },
  });
  const query = createQueryService({
    store,
    catalog: POPS,
    functions: FUNCTIONS,
    thresholds: config.status,
    noDataAfterMs: config.detector.noDataAfterMs,
    maxPoints: config.query.maxPoints,
    now,
    // An alert store outage must not take the overview down: show the last count we had.
    openRegressions: () =>
      alerts.countUnresolved('regression').then(
        (n) => (lastRegressions = n),
        (err) => {
          log.warn({ err }, 'cannot count open alerts; the overview shows the last known count');
          return lastRegressions;
        },
      ),
  });
  const cached = createCachedQueries({
    query,
    cache,
    now,
    log: log.child({ module: 'cache' }),
    onOutcome: (outcome) => metrics.cacheAnswers.inc({ outcome }),
  });
  const defaultWindow = parseWindow(config.query.defaultWindow);
  const hub = createLiveHub({
    computeOverview: () => cached.overview(defaultWindow.ms, defaultWindow.label).then(withStale),
    coalesceMs: config.live.coalesceMs,
    pingIntervalMs: config.live.pingIntervalMs,
    maxBufferedBytes: config.live.maxBufferedBytes,
    heartbeatIntervalMs: config.live.heartbeatIntervalMs,
    maxClients: config.live.maxClients,
    log: log.child({ module: 'live' }),
    now,
    onDrop: (reason) => metrics.wsDropped.inc({ reason }),
    onRefuse: () => metrics.wsRefused.inc(),
    onSent: (type, n) => metrics.wsMessages.inc({ type }, n),
  });
  // The new version first, so the update the hub computes cannot come from an older cache entry.
  const answersChanged = () =>
    cache.bumpDataVersion().catch((err) => log.warn({ err }, 'cannot bump the cache data version')).finally(() => hub.dataLanded());
  bus.subscribe((e) => {
    // A resumed bus: other replicas' news of the outage was missed, so the dashboards get a fresh push.
    if (e.type === 'data_landed' || e.type === 'bus_resumed') void answersChanged();
    // Every alert change goes to every client at once, never coalesced; the overview's
    // `regressions` may have changed too, so clients also get a (coalesced) metrics_update.
    else if (e.type === 'alert') {
      inSpan('ws.broadcast alert', { attributes: { 'alert.id': e.alert.id } }, () => hub.broadcast({ type: 'alert', data: e.alert }));
      void answersChanged();
    }
  });
  liveClients = hub.clientCount;
  // Data written straight into InfluxDB by anyone else reaches the dashboard through this.
  // Late data the keeper finds (written straight into InfluxDB, bypassing /write) is announced
  // as /write announces it, so the detector re-derives and no_data alerts wait while it lands;
  // the span the detector re-derives from is checked every 30 s, not once a sweep cycle.
  const rollupKeeper = config.influx
    ? createInfluxRollupKeeper(config.influx, cluster.leadership, log.child({ module: 'rollups' }), now, {
        hotSpanMs: config.detector.enabled ? rederiveSpanMs(detectorSettings(config.detector)) : 0,
        onLateData: (l) => bus.publish({ type: 'data_landed', points: l.points, latestMs: l.latestMs, earliestMs: l.earliestMs, ...(l.pops ? { pops: l.pops } : {}) }),
      })
    : undefined;
  const poller = config.influx ? startWatermarkPoller({ store, bus, intervalMs: config.influx.pollIntervalMs, log: log.child({ module: 'watermark' }) }) : undefined;
  // Its starting point before anything is served or cached (bounded: a down store only
  // delays start-up by this much, and then the first answer counts as news).
  await poller?.prime(Math.min(config.influx?.timeoutMs ?? 2000, 2000));

  const health = createHealthRegistry();
  health.register({
    name: 'metricsStore',
    required: true,
    async check() {
      const t = now();
      try {
        await store.ping();
      } catch (err) {
        return { status: 'down', kind: store.kind, error: (err as Error).message, circuit: store.breaker(), writeCircuit: store.breakers().writes.state };
      }
      const latest = await store.latestSampleNs();
      return {
        status: 'ok',
        kind: store.kind,
        circuit: store.breaker().state,
        writeCircuit: store.breakers().writes.state,
        latencyMs: now() - t,
        latestSampleAt: latest === null ? null : new Date(Number(latest / 1_000_000n)).toISOString(),
      };
    },
  });
  health.register({ name: 'websocket', required: false, check: () => ({ status: 'ok', clients: hub.clientCount(), maxClients: config.live.maxClients }) });
  health.register({
    name: 'alertStore',
    required: false,
    async check() {
      const t = now();
      await alertStore.ping();
      return { status: 'ok', kind: alertStore.kind, latencyMs: now() - t };
    },
  });
  // The detector: passes on DETECTOR_SCHEDULE (started once the app is ready) and on POST /api/detector/run.
  const snapshot = await detectorSnapshot(config, rollupKeeper !== undefined, log.child({ module: 'detector' }));
  const detectorMetrics = createDetectorMetrics(metrics.registry, (): LateRederiveState | undefined => detector?.lateRederive());
  const detector = config.detector.enabled
    ? createDetectorService({
        store,
        alerts,
        bus,
        leadership: cluster.leadership,
        settings: detectorSettings(config.detector),
        standby: config.detector.standby,
        ...(config.detector.rederiveWorker === 'auto' ? {} : { rederiveWorker: config.detector.rederiveWorker === 'on' ? {} : false }),
        now,
        log: log.child({ module: 'detector' }),
        onPass: detectorMetrics,
        onLook: detectorMetrics.onLook,
        ...(snapshot ? { snapshot } : {}),
      })
    : undefined;
  let detectorSchedule: DetectorSchedule | null = null;
  let earlySchedule: DetectorSchedule | null = null;
  health.register({
    name: 'detector',
    required: false,
    check: () => (detector ? detectorHealth(detector, detectorSchedule, cluster.leadership, earlySchedule) : { status: 'off' }),
  });
  health.register({ name: 'cache', required: false, check: () => ({ status: 'ok', kind: 'memory' }) });
  cluster.registerHealth(health); // with Redis: replaces `cache`, adds `cluster`
  health.register({ name: 'notify', required: false, check: () => notifierHealth(notifier) });
  if (rollupKeeper) health.register({ name: 'rollups', required: false, check: () => rollupKeeper.health() });
  registerHealthMetrics(metrics.registry, health, now);

  const services: Services = { log, store, bus, cluster, ingest, query, cached, cache, hub, health, metrics, notifier, alertStore, alerts, detector, tracing };

  // HTTP, in order: tracing, errors, access and headers, docs, transport plugins, routes, then the dashboard.
  if (tracing) await app.register(tracing.fastifyPlugin()); // before any route, to wrap them all
  registerErrorHandler(app);
  const access = createAccess({ apiToken: config.apiToken, viewerToken: config.viewerToken, metricsToken: config.metricsToken });
  registerReadGuard(app, access);
  await registerSecurityHeaders(app);
  // A callback hook, not an async one, and the debug line only built when it is logged:
  // this runs for every request (measured in `npm run bench`, cached overview row).
  app.addHook('onResponse', (req, reply, done) => {
    const ms = reply.elapsedTime;
    if (log.isLevelEnabled('debug')) req.log.debug({ method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms }, 'request completed');
    metrics.httpDuration.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, ms / 1000);
    done();
  });
  app.addHook('onError', async (req, _reply, err) => {
    if (req.url.startsWith('/write') || req.url.startsWith('/api/v2/write')) {
      metrics.ingestRejected.inc({ code: errorCode(err) });
    }
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'EdgeWorker Monitor API', version: VERSION },
      // Optional: a server without tokens takes none. /docs gets an Authorize button for the ones that do.
      components: { securitySchemes: { token: { type: 'http', scheme: 'bearer', description: 'API_TOKEN (writes and changes) or VIEWER_TOKEN (reads)' } } },
      security: [{}, { token: [] }],
    },
  });
  await registerDocs(app);
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  // After the WebSocket plugin: its onRequest hook must mark a handshake first, so a refused one is closed.
  echoRequestId(app);
  await registerCrossOrigin(app, { allowed: config.hardening.corsOrigins, ownOrigins: config.notify.publicUrl ? [new URL(config.notify.publicUrl).origin] : [] });

  const guard = access.write;
  await app.register(ingestRoutes, { ingest, maxBodyBytes: config.ingest.maxBodyBytes, maxInflightBytes: config.ingest.maxInflightBytes, guard });
  await app.register(overviewRoute, { query: cached, defaultWindow: config.query.defaultWindow });
  await app.register(heatmapRoute, { query: cached, defaultWindow: config.query.defaultWindow });
  await app.register(popsRoutes, { query: cached, defaultWindow: config.query.defaultWindow });
  await app.register(timeseriesRoute, { query: cached, now, maxPoints: config.query.maxPoints });
  await app.register(functionsRoute, { query: cached });
  await app.register(liveRoutes, { hub });
  await app.register(alertRoutes, { alerts, guard });
  await app.register(sessionRoute, { access, apiTokenSet: config.apiToken !== undefined });
  if (detector) await app.register(detectorRoutes, { detector, guard });
  await app.register(healthRoutes, {
    health,
    metrics: metrics.registry,
    version: VERSION,
    startedAt,
    now,
    canSeeDetails: access.canRead,
    metricsGuard: access.metrics,
  });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await registerWeb(app, config.webDistDir);

  if (rollupKeeper) app.addHook('onReady', async () => rollupKeeper.start());
  if (detector) {
    // Built here so a bad schedule fails start-up; croner's `protect` keeps passes from overlapping.
    app.addHook('onReady', async () => {
      const detectorLog = log.child({ module: 'detector' });
      detectorSchedule = startDetectorSchedule({ expression: config.detector.schedule, run: () => detector.runPass(), log: detectorLog });
      const early = config.detector.early;
      if (early === null) return;
      // A failing look (the store down) fails every 2 s: said once at warn until one succeeds (the passes say the rest).
      let failing = false;
      const look = () =>
        detector.look().then(
          () => void (failing = false),
          (err: unknown) => {
            detectorLog[failing ? 'debug' : 'warn']({ err }, 'early look failed; the passes go on, and the looks are tried again');
            failing = true;
          },
        );
      earlySchedule = startDetectorSchedule({ expression: early, run: look, log: detectorLog, what: { name: 'early look', variable: 'DETECTOR_EARLY' } });
    });
  }

  // Close order: stop pushing to clients, then close the store last.
  app.addHook('onClose', async () => {
    detectorSchedule?.stop();
    earlySchedule?.stop();
    poller?.stop();
    await rollupKeeper?.stop();
    await detector?.stop(); // before the stores close: a re-derive in flight is cut short, any other pass finishes
    // The engine's state for the next start (leader only, under its fence; before the cluster and the store close).
    await detector?.saveSnapshot().catch((err) => log.warn({ err }, 'could not write the detector snapshot; the next start re-derives'));
    hub.close();
    await notifier.close(); // cuts pending retries short
    await alerts.close(2000); // records the outcomes of notifications still in flight
    await cluster.close();
    await alertStore.close();
    await store.close();
    await tracing?.shutdown(); // last: exports the spans of the shutdown too
  });

  return Object.assign(app, { services }) as unknown as App;
}

/**
 * The detector snapshot taken from DATA_DIR at start (read and deleted: used once), or undefined
 * when off. A process that will not use it deletes it all the same: once this process writes
 * to the store, the state in it is stale. On InfluxDB without rollups there is no keeper to find
 * samples others wrote behind it while no server ran, so it is off there.
 */
async function detectorSnapshot(config: Config, lateDataWatched: boolean, log: Logger) {
  const path = join(config.dataDir, 'detector-snapshot.bin');
  const usable = config.detector.enabled && config.detector.snapshotPath !== undefined && (config.metricsStore === 'embedded' || lateDataWatched);
  if (!usable) {
    await rm(path, { force: true }).catch(() => undefined);
    if (config.detector.enabled && config.detector.snapshotPath && !lateDataWatched) {
      log.info('detector snapshot off: with INFLUX_ROLLUPS=off nothing finds samples written into InfluxDB behind it while the server was down');
    }
    return undefined;
  }
  const snapshotPath = config.detector.snapshotPath!;
  const taken = await takeEngineSnapshot(snapshotPath, detectorSettings(config.detector));
  if (taken?.ok) log.info({ path: snapshotPath, bytes: taken.bytes, savedAt: new Date(taken.savedAtMs).toISOString() }, 'detector snapshot taken; the first pass as leader starts from it when it is recent');
  return { path: snapshotPath, taken, everyMs: config.detector.snapshotEveryMs };
}

/** METRICS_STORE picks the adapter: a DuckDB file in DATA_DIR, or InfluxDB at INFLUX_URL. */
async function openMetricsStore(config: Config, log: Logger, now: () => number): Promise<MetricsStore> {
  if (config.metricsStore === 'influxdb') {
    const influx = config.influx!;
    log.info({ url: redact(influx.url), db: influx.db }, 'metrics store: InfluxDB (v1 API: line protocol + InfluxQL)');
    return createInfluxDbMetricsStore({ ...influx, rollups: influxRollupReads(influx), log: log.child({ module: 'influxdb' }), now });
  }
  return createDuckDbMetricsStore({ path: join(config.dataDir, 'metrics.duckdb'), retentionMs: config.retentionMs,
    retention1mMs: config.rollups.retention1mMs, retention1hMs: config.rollups.retention1hMs, log: log.child({ module: 'duckdb' }), now,
    memoryLimitBytes: config.duckdb.memoryLimitBytes, warmBlocksHours: config.duckdb.warmBlocksMs / 3_600_000 });
}

/** ALERT_STORE picks the adapter: a DuckDB file in DATA_DIR, or MongoDB at MONGODB_URL. */
function openAlertStore(config: Config, log: Logger): Promise<AlertStore> {
  if (config.alertStore === 'mongodb') {
    return createMongoAlertStore({ url: config.mongodbUrl!, log: log.child({ module: 'mongodb' }) });
  }
  return createEmbeddedAlertStore({ path: join(config.dataDir, 'alerts.duckdb'), log: log.child({ module: 'alerts-duckdb' }) });
}
