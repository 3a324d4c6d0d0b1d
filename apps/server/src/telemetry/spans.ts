/**
 * The spans the server makes itself (ingest, store and cache calls, bus, WebSocket
 * broadcasts, detector passes, notifications), through the OpenTelemetry API. While
 * tracing is off every helper calls straight through: no span objects, no context
 * switches, no closures kept.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type SpanContext } from '@opentelemetry/api';

let enabled = false;
const tracer = () => trace.getTracer('edgeworker-monitor');

export function setTracingEnabled(on: boolean) {
  enabled = on;
}

export function tracingEnabled(): boolean {
  return enabled;
}

export interface SpanOptions {
  attributes?: Attributes;
  kind?: 'internal' | 'producer' | 'consumer' | 'client';
  /** Other traces this span also belongs to (work coalesced into it). */
  links?: SpanContext[];
}

const KINDS = { internal: SpanKind.INTERNAL, producer: SpanKind.PRODUCER, consumer: SpanKind.CONSUMER, client: SpanKind.CLIENT };

/**
 * Runs fn inside a new active span (a child of the current one), ending it when fn
 * settles; a throw or rejection marks the span as an error and is passed on.
 */
export function inSpan<T>(name: string, opts: SpanOptions, fn: (span?: Span) => T): T {
  if (!enabled) return fn();
  const links = opts.links?.map((c) => ({ context: c }));
  return tracer().startActiveSpan(name, { attributes: opts.attributes, kind: KINDS[opts.kind ?? 'internal'], links }, (span) => {
    const fail = (err: unknown) => {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      span.end();
    };
    try {
      const out = fn(span);
      if (out instanceof Promise) {
        return out.then(
          (v) => {
            span.end();
            return v;
          },
          (err: unknown) => {
            fail(err);
            throw err;
          },
        ) as T;
      }
      span.end();
      return out;
    } catch (err) {
      fail(err);
      throw err;
    }
  });
}

/** Wraps every async method named in `calls` of an object in a span `${prefix}.${method}`. */
export function traceCalls<T extends object>(target: T, prefix: string, calls: readonly (keyof T & string)[], attributes: Attributes = {}): T {
  const out = Object.create(target) as T;
  for (const name of calls) {
    const fn = target[name] as unknown as (...a: unknown[]) => Promise<unknown>;
    (out as Record<string, unknown>)[name] = (...args: unknown[]) => inSpan(`${prefix}.${name}`, { attributes, kind: 'client' }, () => fn.apply(target, args));
  }
  return out;
}

/** The active span's context, to link to later; undefined when off or outside any span. */
export function currentSpanContext(): SpanContext | undefined {
  if (!enabled) return undefined;
  return trace.getActiveSpan()?.spanContext();
}

/** The current trace context as W3C headers (`traceparent`, `tracestate`), for an event crossing replicas; undefined when off. */
export function traceCarrier(): Record<string, string> | undefined {
  if (!enabled) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : undefined;
}

/** Runs fn in the trace context a carrier from another replica brought (or the current one without it). */
export function withRemoteContext<T>(carrier: Record<string, string> | undefined, fn: () => T): T {
  if (!enabled || !carrier) return fn();
  return context.with(propagation.extract(context.active(), carrier), fn);
}
