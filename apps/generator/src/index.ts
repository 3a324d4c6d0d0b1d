/**
 * @edgeworker/generator: synthetic cold-start samples for ~300 POPs x 5 functions, plus
 * the pieces to deliver them reliably (bounded retrying buffer, InfluxDB HTTP sink,
 * health endpoint). The server's all-in-one imports this with an in-process send;
 * the CLI (src/bin/generator.ts) wires the same pieces to HTTP.
 */
export type { FunctionSpec, PopInfo } from './types.ts';
export { parseInjection, parseDurationMs, injectionApplies, type Injection } from './inject.ts';
export {
  createLatencyModel,
  expectedMedianMs,
  popBias,
  diurnalFactor,
  localHour,
  type LatencyModel,
  type LatencyModelOptions,
} from './model.ts';
export { createGenerator, samplesAt, type SampleGenerator, type GeneratorOptions } from './generator.ts';
export { createBackfill, type BackfillOptions, type BackfillResult, type BackfillProgress } from './backfill.ts';
export { PermanentWriteError, RetriableWriteError } from './errors.ts';
export {
  createBufferedWriter,
  type BufferedWriter,
  type BufferedWriterOptions,
  type WriterStats,
} from './buffered-writer.ts';
export { createInfluxHttpSink, sampleToPoint, type InfluxHttpSinkOptions } from './http-sink.ts';
export { resolveWriteTarget, type WriteTarget } from './write-url.ts';
export { startHealthServer, healthStatus, type HealthServer, type HealthServerOptions } from './health-server.ts';
