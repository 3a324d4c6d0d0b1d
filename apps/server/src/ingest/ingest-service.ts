/**
 * Ingest: validate a whole line-protocol body, store it in one transaction, then
 * announce it. Semantics are all-or-nothing: the first bad line fails the request
 * with 400 and nothing of that body is stored, so a client can fix and resend the
 * batch without creating duplicates or gaps.
 */
import { inSpan } from '../telemetry/spans.ts';
import { LineProtocolError, parseLineProtocolAsync, type Precision } from '@edgeworker/line-protocol';
import type { ColdStartSample } from '@edgeworker/schema';
import type { Logger } from 'pino';
import { landedPops, type Bus } from '../events.ts';
import { AppError } from '../http/errors.ts';
import type { MetricsStore } from '../stores/metrics-store.ts';
import { splitForeignMeasurements } from './foreign-measurements.ts';
import { toSample, type KnownPop } from './to-sample.ts';
import { createCardinalityGuard } from './cardinality.ts';

export interface IngestDeps {
  store: MetricsStore;
  bus: Bus;
  lookupPop: (code: string) => KnownPop | undefined;
  maxLines: number;
  /** Longest line, bytes (INGEST_MAX_LINE_BYTES): a line is parsed in one go, so this bounds how long it holds the thread. */
  maxLineBytes?: number;
  /** Most distinct POPs and functions (MAX_POPS, MAX_FUNCTIONS); new ones beyond are refused with 422. */
  maxPops: number;
  maxFunctions: number;
  /** Most (POP, function) series with a sample in the last seriesWindowMs (MAX_SERIES); new ones beyond are refused with 422. */
  maxSeries?: number;
  seriesWindowMs?: number;
  now: () => number;
  /**
   * RETENTION (0 or absent: keep everything): points older than it are not stored, and a body with
   * any is answered as InfluxDB 1.x answers it, a 400 "partial write: points beyond retention policy
   * dropped=N" with the others stored.
   */
  retentionMs?: number;
  log: Logger;
  onStored?: (points: number) => void;
  /** Points of other measurements skipped in a body, by measurement name. */
  onSkipped?: (byMeasurement: Map<string, number>) => void;
}

export interface IngestResult {
  stored: number;
  /** Points of other measurements (cpu, mem, … from Telegraf) skipped, not stored. */
  skipped: number;
}

export interface IngestService {
  /** Parses, validates and stores a body (text, or UTF-8 bytes as received); says how many points were stored and skipped. */
  ingestLineProtocol(body: string | Buffer, precision: Precision): Promise<IngestResult>;
  /** Stores samples produced in-process (the built-in generator). */
  writeSamples(samples: ColdStartSample[]): Promise<void>;
}

const MAX_LINE_ECHO = 200;
/**
 * How far ahead of the server's clock a point may be (agents' clocks drift; Mimir and Loki
 * allow the same 10 minutes). One point from a clock set years ahead became every answer's
 * latestSampleAt for good (nothing ever passes it, retention never deletes it), which froze
 * /health, the dashboard's freshness and the ingest-stopped alert; a point past 2199 could
 * not even be asked for.
 */
export const MAX_FUTURE_MS = 10 * 60_000;

/** The batch's POPs for `data_landed` (late data re-derives only their series); none when more than LANDED_POPS_MAX. */
function popsOf(samples: readonly ColdStartSample[]): { pops?: string[] } {
  const pops = landedPops(samples.map((s) => s.popCode));
  return pops ? { pops } : {};
}

export function createIngestService(deps: IngestDeps): IngestService {
  const cardinality = createCardinalityGuard(
    deps.store,
    { maxPops: deps.maxPops, maxFunctions: deps.maxFunctions, ...(deps.maxSeries !== undefined ? { maxSeries: deps.maxSeries } : {}), ...(deps.seriesWindowMs !== undefined ? { seriesWindowMs: deps.seriesWindowMs } : {}) },
    deps,
  );

  function store(samples: ColdStartSample[]): Promise<void> {
    if (samples.length === 0) return Promise.resolve();
    return inSpan('ingest.store', { attributes: { 'ingest.points': samples.length } }, () => storeNow(samples));
  }

  async function storeNow(samples: ColdStartSample[]) {
    const undo = await cardinality.admit(samples);
    try {
      await deps.store.write(samples);
    } catch (err) {
      undo();
      deps.log.error({ err, points: samples.length }, 'metrics store refused a write');
      throw new AppError(
        'store_unavailable',
        'the metrics store could not save this batch; nothing of it was stored, retry later',
        503,
      );
    }
    let latestNs = samples[0]!.timeNs;
    let earliestNs = latestNs;
    for (const s of samples) {
      if (s.timeNs > latestNs) latestNs = s.timeNs;
      else if (s.timeNs < earliestNs) earliestNs = s.timeNs;
    }
    deps.onStored?.(samples.length);
    inSpan('bus.publish data_landed', { kind: 'producer' }, () =>
      deps.bus.publish({ type: 'data_landed', points: samples.length, latestMs: Number(latestNs / 1_000_000n), earliestMs: Number(earliestNs / 1_000_000n), ...popsOf(samples) }),
    );
  }

  return {
    async ingestLineProtocol(body, precision) {
      let points;
      try {
        // In slices, with turns of the event loop between them: a 10 MB body is seconds of parsing on a
        // loaded machine, during which the server answered nothing else (health checks, dashboards, writes).
        points = await parseLineProtocolAsync(body, {
          precision,
          defaultTimeNs: BigInt(deps.now()) * 1_000_000n,
          maxLines: deps.maxLines,
          ...(deps.maxLineBytes !== undefined ? { maxLineLength: deps.maxLineBytes } : {}),
        });
      } catch (err) {
        if (err instanceof LineProtocolError) {
          const variable = /^the line is \d+ bytes long/.test(err.reason) ? ' (INGEST_MAX_LINE_BYTES)' : '';
          throw new AppError('invalid_line_protocol', err.message + variable, 400, { line: err.line, text: err.text });
        }
        throw err;
      }
      const { ours, skipped, skippedTotal } = splitForeignMeasurements(points);
      const samples: ColdStartSample[] = [];
      const latestNs = BigInt(deps.now() + MAX_FUTURE_MS) * 1_000_000n;
      const refuse = (line: number, code: string, error: string) => {
        const text = String(body).split('\n', line)[line - 1]?.replace(/\r$/, '').slice(0, MAX_LINE_ECHO) ?? '';
        return new AppError(code, `line ${line}: ${error}`, 400, { line, text });
      };
      const oldestNs = deps.retentionMs ? BigInt(deps.now() - deps.retentionMs) * 1_000_000n : null;
      // Beyond RETENTION: not stored; the first such line and how many, for the answer.
      const beyond = { line: 0, timeNs: 0n, count: 0 };
      for (const p of ours) {
        const r = toSample(p, deps.lookupPop);
        if ('error' in r) throw refuse(p.line, r.code, r.error);
        if (r.sample.timeNs > latestNs) {
          const at = new Date(Number(r.sample.timeNs / 1_000_000n)).toISOString();
          throw refuse(p.line, 'invalid_timestamp', `timestamp ${at} is more than ${MAX_FUTURE_MS / 60_000} minutes ahead of the server's clock; check the agent's clock and the precision (${precision})`);
        }
        if (oldestNs !== null && r.sample.timeNs < oldestNs) {
          if (beyond.count++ === 0) Object.assign(beyond, { line: p.line, timeNs: r.sample.timeNs });
          continue;
        }
        samples.push(r.sample);
      }
      await store(samples);
      if (beyond.count > 0) {
        // InfluxDB 1.x's answer (measured on influxd 1.6): 400, the others stored. A 204 would say
        // all of it was, and a precision mistake (seconds sent as ns: 1970) would store nothing, silently.
        const at = new Date(Number(beyond.timeNs / 1_000_000n)).toISOString();
        const { details } = refuse(beyond.line, '', '') as { details: Record<string, unknown> };
        throw new AppError(
          'beyond_retention',
          `partial write: points beyond retention policy dropped=${beyond.count}: line ${beyond.line} is dated ${at}, older than RETENTION (${Math.round(deps.retentionMs! / 3_600_000)} h); the other ${samples.length} point(s) were stored. Check the precision (${precision})`,
          400,
          { ...details, dropped: beyond.count, stored: samples.length },
        );
      }
      // Counted once the body is accepted: a refused body skipped nothing, it stored nothing.
      if (skippedTotal > 0) {
        deps.onSkipped?.(skipped);
        deps.log.debug({ skipped: Object.fromEntries([...skipped].slice(0, 20)), stored: samples.length }, 'skipped points of other measurements');
      }
      return { stored: samples.length, skipped: skippedTotal };
    },
    writeSamples: store,
  };
}
