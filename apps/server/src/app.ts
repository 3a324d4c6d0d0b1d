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
import { pino, type Logger } from 'pino';
import { FUNCTIONS, POPS, findPop } from '@edgeworker/pops';
import type { Config } from './config.ts';
import { createLocalBus, type Bus } from './events.ts';
import { registerErrorHandler } from './http/errors.ts';
import { createTokenGuard } from './http/auth.ts';
import { registerWeb } from './http/web.ts';
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
import { createDuckDbMetricsStore } from './stores/duckdb/duckdb-metrics-store.ts';
import type { MetricsStore } from './stores/metrics-store.ts';

export const VERSION = '0.1.0';

export interface AppOverrides {
  /** Clock in epoch ms; tests pin it. */
  now?: () => number;
}

export interface Services {
  log: Logger;
  store: MetricsStore;
  bus: Bus;
  ingest: IngestService;
  query: QueryService;
  hub: LiveHub;
  health: HealthRegistry;
  metrics: ServerMetrics;
}

export type App = FastifyInstance & { services: Services };

export async function buildApp(config: Config, overrides: AppOverrides = {}): Promise<App> {
  const now = overrides.now ?? Date.now;
  const startedAt = now();
  const log = pino({ level: config.logLevel });
  const app = Fastify({
    // Fastify types its logger loosely; the services keep pino's own type.
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    // The dashboard polls; one info line per request would drown the log. Requests are logged at debug below.
    logController: new LogController({ disableRequestLogging: true }),
    // Load balancers and proxies set request ids; keep theirs when present.
    requestIdHeader: 'x-request-id',
  }).withTypeProvider<TypeBoxTypeProvider>();

  if (config.ignoredVariables.length > 0) {
    log.warn({ variables: config.ignoredVariables }, 'these variables are set but have no effect with the chosen stores and channels');
  }

  // Adapters
  const store = await createDuckDbMetricsStore({
    path: join(config.dataDir, 'metrics.duckdb'),
    retentionMs: config.retentionMs,
    log: log.child({ module: 'duckdb' }),
    now,
  });
  let liveClients = () => 0;
  const metrics = createServerMetrics({ liveClients: () => liveClients() });
  const bus = createLocalBus((err) => log.error({ err }, 'bus listener failed'));

  // Services
  const ingest = createIngestService({
    store,
    bus,
    lookupPop: findPop,
    maxLines: config.ingest.maxLines,
    now,
    log: log.child({ module: 'ingest' }),
    onStored: (n) => metrics.ingestedPoints.inc(n),
  });
  const query = createQueryService({
    store,
    catalog: POPS,
    functions: FUNCTIONS,
    thresholds: config.status,
    maxPoints: config.query.maxPoints,
    now,
    // Regression alerts arrive with the detector; until then there are none to count.
    openRegressions: async () => 0,
  });
  const defaultWindowMs = parseWindow(config.query.defaultWindow);
  const hub = createLiveHub({
    computeOverview: () => query.overview(defaultWindowMs, config.query.defaultWindow),
    coalesceMs: config.live.coalesceMs,
    pingIntervalMs: config.live.pingIntervalMs,
    maxBufferedBytes: config.live.maxBufferedBytes,
    log: log.child({ module: 'live' }),
    now,
    onDrop: (reason) => metrics.wsDropped.inc({ reason }),
    onSent: (type, n) => metrics.wsMessages.inc({ type }, n),
  });
  bus.subscribe((e) => {
    if (e.type === 'data_landed') hub.dataLanded();
  });
  liveClients = hub.clientCount;

  const health = createHealthRegistry();
  health.register({
    name: 'metricsStore',
    required: true,
    async check() {
      const t = now();
      await store.ping();
      const latest = await store.latestSampleNs();
      return {
        status: 'ok',
        kind: store.kind,
        latencyMs: now() - t,
        latestSampleAt: latest === null ? null : new Date(Number(latest / 1_000_000n)).toISOString(),
      };
    },
  });
  health.register({ name: 'websocket', required: false, check: () => ({ status: 'ok', clients: hub.clientCount() }) });
  health.register({ name: 'alertStore', required: false, check: () => ({ status: 'not_configured' }) });
  health.register({ name: 'detector', required: false, check: () => ({ status: 'not_configured' }) });
  health.register({ name: 'cache', required: false, check: () => ({ status: 'ok', kind: 'memory' }) });

  const services: Services = { log, store, bus, ingest, query, hub, health, metrics };

  // HTTP, in order: errors, docs, transport plugins, routes, then the dashboard.
  registerErrorHandler(app);
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'request completed');
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
  app.addHook('onError', async (req, _reply, err) => {
    if (req.url.startsWith('/write') || req.url.startsWith('/api/v2/write')) {
      metrics.ingestRejected.inc({ code: (err as { code?: string }).code ?? 'error' });
    }
  });
  await app.register(fastifySwagger, {
    openapi: { info: { title: 'EdgeWorker Monitor API', version: VERSION } },
  });
  await app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });

  const guard = createTokenGuard(config.apiToken);
  const defaultWindow = config.query.defaultWindow;
  await app.register(ingestRoutes, { ingest, maxBodyBytes: config.ingest.maxBodyBytes, guard });
  await app.register(overviewRoute, { query, defaultWindow });
  await app.register(heatmapRoute, { query, defaultWindow });
  await app.register(popsRoutes, { query, defaultWindow });
  await app.register(timeseriesRoute, { query, now, maxPoints: config.query.maxPoints });
  await app.register(functionsRoute, { query });
  await app.register(liveRoutes, { hub });
  await app.register(healthRoutes, { health, metrics: metrics.registry, version: VERSION, startedAt, now });
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await registerWeb(app, config.webDistDir);

  // Close order: stop pushing to clients, then close the store last.
  app.addHook('onClose', async () => {
    hub.close();
    await store.close();
  });

  return Object.assign(app, { services }) as unknown as App;
}
