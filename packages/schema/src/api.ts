/**
 * HTTP response shapes. These TypeBox schemas are the single source for the
 * server's route validation and serialisation, the OpenAPI document and the
 * dashboard's TypeScript types.
 */
import { Type, type Static } from 'typebox';

export const PopStatus = Type.Union([
  Type.Literal('healthy'),
  Type.Literal('warning'),
  Type.Literal('critical'),
  Type.Literal('no_data'),
]);
export type PopStatus = Static<typeof PopStatus>;

export const Resolution = Type.Union([Type.Literal('raw'), Type.Literal('1m'), Type.Literal('1h')], {
  description: 'which data answered: raw samples (exact percentiles) or 1-minute / 1-hour rollups (count, mean exact; percentiles within 1 %); the coarsest one used',
});
export type Resolution = Static<typeof Resolution>;

const Ms = Type.Union([Type.Number(), Type.Null()], { description: 'milliseconds; null when there are no samples' });

export const ErrorBody = Type.Object({
  code: Type.String(),
  message: Type.String(),
  requestId: Type.Optional(Type.String()),
  line: Type.Optional(Type.Integer({ description: 'for ingest errors: 1-based number of the first bad line' })),
  text: Type.Optional(Type.String({ description: 'for ingest errors: the first bad line (truncated)' })),
  dropped: Type.Optional(Type.Integer({ description: 'beyond_retention: points older than RETENTION, not stored' })),
  stored: Type.Optional(Type.Integer({ description: 'beyond_retention: the body\'s other points, stored' })),
});
export type ErrorBody = Static<typeof ErrorBody>;

export const Overview = Type.Object({
  totalPops: Type.Integer({ description: 'known POPs: the catalog plus any POP seen in the data' }),
  healthyPops: Type.Integer(),
  warningPops: Type.Integer(),
  criticalPops: Type.Integer(),
  noDataPops: Type.Integer(),
  averageColdStart: Ms,
  p50: Ms,
  p95: Ms,
  p99: Ms,
  samples: Type.Integer(),
  regressions: Type.Integer({ description: 'open regression alerts' }),
  window: Type.String(),
  thresholds: Type.Object({
    warnMs: Type.Number({ description: 'warning from this mean (ms), for functions without their own pair' }),
    critMs: Type.Number({ description: 'critical from this mean (ms), for functions without their own pair' }),
    functions: Type.Optional(Type.Record(Type.String(), Type.Object({ warnMs: Type.Number(), critMs: Type.Number() }), {
      description: "each function's own pair (STATUS_THRESHOLDS over the function catalog's defaults); a POP's status is the worst of its functions'",
    })),
  }),
  latestSampleAt: Type.Union([Type.String(), Type.Null()], { description: 'RFC 3339 time of the newest sample' }),
  updatedAt: Type.String({ description: 'RFC 3339 time this answer was computed' }),
  resolution: Resolution,
  stale: Type.Optional(Type.Literal(true, { description: 'present when the metrics store is down and this is the last good answer' })),
  staleAgeMs: Type.Optional(Type.Integer({ description: 'with stale: how old the answer is, in ms' })),
});
export type Overview = Static<typeof Overview>;

export const HeatmapEntry = Type.Object({
  popCode: Type.String(),
  city: Type.String(),
  country: Type.String(),
  tier: Type.String(),
  lat: Type.Number(),
  lon: Type.Number(),
  coldStartTime: Ms,
  p95: Ms,
  samples: Type.Integer(),
  status: PopStatus,
});
export type HeatmapEntry = Static<typeof HeatmapEntry>;

export const Pop = Type.Object({
  code: Type.String(),
  city: Type.String(),
  country: Type.String(),
  tier: Type.String(),
  lat: Type.Number(),
  lon: Type.Number(),
  source: Type.Union([Type.Literal('catalog'), Type.Literal('data')], {
    description: 'catalog: a built-in POP; data: first seen in ingested data',
  }),
});
export type Pop = Static<typeof Pop>;

export const FunctionStats = Type.Object({
  functionName: Type.String(),
  coldStartTime: Ms,
  p50: Ms,
  p95: Ms,
  p99: Ms,
  samples: Type.Integer(),
  status: PopStatus,
});
export type FunctionStats = Static<typeof FunctionStats>;

export const PopDetail = Type.Object({
  pop: Pop,
  window: Type.String(),
  status: PopStatus,
  coldStartTime: Ms,
  p50: Ms,
  p95: Ms,
  p99: Ms,
  samples: Type.Integer(),
  functions: Type.Array(FunctionStats),
  resolution: Resolution,
  stale: Type.Optional(Type.Literal(true, { description: 'present when the metrics store is down and this is the last good answer' })),
  staleAgeMs: Type.Optional(Type.Integer({ description: 'with stale: how old the answer is, in ms' })),
});
export type PopDetail = Static<typeof PopDetail>;

export const TimeseriesPoint = Type.Object({
  t: Type.Number({ description: 'bucket start, epoch milliseconds' }),
  mean: Ms,
  p50: Ms,
  p95: Ms,
  p99: Ms,
  samples: Type.Integer(),
});
export type TimeseriesPoint = Static<typeof TimeseriesPoint>;

export const Timeseries = Type.Object({
  popCode: Type.String(),
  functionName: Type.Union([Type.String(), Type.Null()]),
  from: Type.String(),
  to: Type.String(),
  stepMs: Type.Integer(),
  points: Type.Array(TimeseriesPoint, { description: 'one per step, empty buckets included with samples 0' }),
  resolution: Resolution,
  stale: Type.Optional(Type.Literal(true, { description: 'present when the metrics store is down and this is the last good answer' })),
  staleAgeMs: Type.Optional(Type.Integer({ description: 'with stale: how old the answer is, in ms' })),
});
export type Timeseries = Static<typeof Timeseries>;

export const FunctionInfo = Type.Object({
  name: Type.String(),
  description: Type.String(),
});
export type FunctionInfo = Static<typeof FunctionInfo>;
