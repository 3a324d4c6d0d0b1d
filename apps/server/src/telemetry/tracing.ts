/**
 * OpenTelemetry tracing, on only when an OTLP endpoint is configured (the standard
 * OTEL_* variables, parsed in config.ts). It registers one process-wide tracer
 * provider that batches spans to the OTLP/HTTP endpoint as protobuf or JSON, and
 * hands out @fastify/otel's plugin for the per-request spans. When it is off nothing
 * here is loaded or registered: the span helpers in spans.ts then call straight through.
 */
import type { FastifyPluginCallback } from 'fastify';
import type { OtelConfig } from '../config.ts';
import { setTracingEnabled } from './spans.ts';

export interface Tracing {
  /** @fastify/otel's plugin: register before any route. */
  fastifyPlugin(): FastifyPluginCallback;
  /** Exports every span ended so far (tests, and before shutdown). */
  flush(): Promise<void>;
  /** Flushes, then unregisters the provider so spans stop. */
  shutdown(): Promise<void>;
}

export async function startTracing(cfg: OtelConfig, version: string): Promise<Tracing> {
  // Loaded lazily, so a server without tracing does not even parse the SDK.
  const [{ NodeTracerProvider, BatchSpanProcessor }, { resourceFromAttributes }, api, { FastifyOtelInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/api'),
    import('@fastify/otel'),
  ]);
  const exporterConfig = { url: cfg.tracesUrl, headers: cfg.headers };
  const exporter =
    cfg.protocol === 'http/json'
      ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(exporterConfig)
      : new (await import('@opentelemetry/exporter-trace-otlp-proto')).OTLPTraceExporter(exporterConfig);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ ...cfg.resourceAttributes, 'service.name': cfg.serviceName, 'service.version': version }),
    // Batching keeps exporting off the request path; the batch size and delay follow OTEL_BSP_* when set.
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // Global: the AsyncLocalStorage context manager and W3C trace-context propagator come with it.
  provider.register();
  setTracingEnabled(true);
  const instrumentation = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    // One span for the request and one for its handler, not one per lifecycle hook (helmet, access,
    // metrics…): hook spans doubled the spans of a cached read (about 8.5 instead of 4) and told nothing.
    instrumentHooks: false,
    // A span per health probe or scrape would drown the traces that matter; a /ws request lives as
    // long as its socket (its broadcasts have spans of their own).
    ignorePaths: (o: { url: string }) => ['/health', '/metrics', '/ws'].includes(o.url.split('?', 1)[0]!),
    // Name request spans as backends expect them: `GET /api/heatmap`, not `request`.
    requestHook: (span: import('@opentelemetry/api').Span, request: { method: string; routeOptions: { url?: string } }) => {
      span.updateName(`${request.method} ${request.routeOptions.url ?? 'unmatched'}`);
    },
  });
  instrumentation.setTracerProvider(provider);
  let stopped = false;
  return {
    fastifyPlugin: () => instrumentation.plugin() as unknown as FastifyPluginCallback,
    flush: () => provider.forceFlush(),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      setTracingEnabled(false);
      await provider.shutdown();
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
    },
  };
}
