/**
 * `send` for the buffered writer: POSTs line protocol to any InfluxDB-compatible write
 * endpoint (InfluxDB 1.x / 2.x / 3.x, Telegraf's influxdb listener, our own /write).
 * It only classifies failures; retrying is the buffered writer's job.
 */
import { promisify } from 'node:util';
import { gzip as gzipCb } from 'node:zlib';
import { encodeBatch, type PointInput } from '@edgeworker/line-protocol';
import { FIELD, MEASUREMENT, TAG, type ColdStartSample } from '@edgeworker/schema';
import { PermanentWriteError, RetriableWriteError } from './errors.ts';
import { redactUrl, resolveWriteTarget, type Precision } from './write-url.ts';

const gzip = promisify(gzipCb);
const EXCERPT_CHARS = 300;

export interface InfluxHttpSinkOptions {
  /** A full write URL (path ends with /write or /api/v2/write) or a base URL. */
  url: string;
  /** 1.x database for a base URL without bucket (default 'edgeworker'). */
  db?: string;
  /** 2.x/3.x bucket; with a base URL, selects /api/v2/write. */
  bucket?: string;
  org?: string;
  /** 'Authorization: Token <t>'; wins over username/password. */
  token?: string;
  username?: string;
  password?: string;
  precision?: Precision;
  gzip?: boolean;
  /** Per request, including reading the answer. Default 10000. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function sampleToPoint(s: ColdStartSample): PointInput {
  return {
    measurement: MEASUREMENT,
    tags: {
      [TAG.popCode]: s.popCode,
      [TAG.city]: s.city,
      [TAG.country]: s.country,
      [TAG.tier]: s.tier,
      [TAG.functionName]: s.functionName,
    },
    // Plain numbers encode as floats, which is the seed's field type for all three.
    fields: {
      [FIELD.coldStartTimeMs]: s.coldStartTimeMs,
      [FIELD.latitude]: s.latitude,
      [FIELD.longitude]: s.longitude,
    },
    timeNs: s.timeNs,
  };
}

export function createInfluxHttpSink(opts: InfluxHttpSinkOptions): (samples: ColdStartSample[]) => Promise<void> {
  const target = resolveWriteTarget(opts);
  const { url, precision } = target;
  const where = redactUrl(url);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const doFetch = opts.fetch ?? globalThis.fetch;
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    accept: 'application/json',
    'user-agent': 'edgeworker-generator',
  };
  const user = opts.username ?? target.urlCredentials?.username;
  const password = opts.password ?? target.urlCredentials?.password ?? '';
  if (opts.token !== undefined && opts.token !== '') {
    headers.authorization = `Token ${opts.token}`;
  } else if (user !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  if (opts.gzip) headers['content-encoding'] = 'gzip';

  return async function send(samples) {
    if (samples.length === 0) return;
    let text: string;
    try {
      text = encodeBatch(samples.map(sampleToPoint), precision);
    } catch (err) {
      // e.g. a NaN field: the same samples would fail the same way on every retry.
      throw new PermanentWriteError(`cannot encode batch as line protocol: ${(err as Error).message}`, { cause: err });
    }
    const body = opts.gzip ? await gzip(text) : text;
    const signal = AbortSignal.timeout(timeoutMs);
    let res: Response;
    try {
      // redirect: 'manual' because following a 301/302 would turn the POST into a GET.
      res = await doFetch(url, { method: 'POST', headers, body, signal, redirect: 'manual' });
    } catch (err) {
      if (signal.aborted) {
        throw new RetriableWriteError(`write to ${where} timed out after ${timeoutMs} ms`, { cause: err });
      }
      throw new RetriableWriteError(`write to ${where} failed: ${describeNetworkError(err)}`, { cause: err });
    }
    let answer = '';
    try {
      answer = await res.text();
    } catch {
      // The status line is what decides; an unreadable body only loses the excerpt.
    }
    if (res.status >= 200 && res.status < 300) return;

    const excerpt = answer.trim().slice(0, EXCERPT_CHARS);
    const location = res.headers.get('location');
    const message =
      `write to ${where} answered HTTP ${res.status}` +
      (excerpt ? `: ${excerpt}` : '') +
      (location ? ` (redirects to ${location}; use that as the target)` : '');
    if (res.status === 408 || res.status === 429 || res.status >= 500) {
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      throw new RetriableWriteError(message, { status: res.status, ...(retryAfterMs ? { retryAfterMs } : {}) });
    }
    throw new PermanentWriteError(message, { status: res.status });
  };
}

/** fetch reports "fetch failed"; the useful part (ECONNREFUSED, socket closed...) is in cause. */
function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause === undefined || cause === null) return err.message;
  const code = typeof cause.code === 'string' ? `${cause.code} ` : '';
  const msg = typeof cause.message === 'string' ? cause.message : '';
  return `${err.message} (${code}${msg})`.replace(/ \)$/, ')');
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unparsable. */
function parseRetryAfter(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
