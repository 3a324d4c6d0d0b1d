/**
 * Parsing of the query parameters shared by several routes: windows, instants and steps.
 * Everything is bounded here, before a store sees it: a value a store cannot represent
 * (a step of 10^12 days, an instant past int64 nanoseconds) is the client's mistake and
 * gets a 400, never a store error that would count as an outage.
 */
import { parseDuration } from '../config.ts';
import { AppError } from '../http/errors.ts';

export const MIN_WINDOW_MS = 10_000;
export const MAX_WINDOW_MS = 7 * 86_400_000;

/**
 * The windows answers are computed for. A requested window is snapped to the nearest
 * of these (on a log scale, so at most ~20 % off), which keeps the cache to a few keys
 * per question: `window=601s`, `602s`, … all share the `10m` entry instead of each
 * filling the cache with its own copy of the same answer.
 */
export const CANONICAL_WINDOWS = [
  '10s', '15s', '30s', '1m', '2m', '3m', '5m', '10m', '15m', '20m', '30m', '45m',
  '1h', '2h', '3h', '4h', '6h', '8h', '12h', '18h', '24h', '36h', '2d', '3d', '4d', '5d', '7d',
] as const;

const CANONICAL = CANONICAL_WINDOWS.map((label) => ({ label, ms: parseDuration(label)!, log: Math.log(parseDuration(label)!) }));

export interface Window {
  /** The canonical window answered, in ms. */
  ms: number;
  /** Its label (`10m`), which the answers echo as their `window`. */
  label: string;
}

/** Validates a window (10s to 7d) and snaps it to the nearest canonical one. */
export function parseWindow(text: string): Window {
  const ms = parseDuration(text);
  if (ms === null || ms < MIN_WINDOW_MS || ms > MAX_WINDOW_MS) {
    throw new AppError('invalid_window', `window=${printable(text)} is invalid: use a duration from 10s to 7d such as 5m or 1h`, 400);
  }
  const l = Math.log(ms);
  let best = CANONICAL[0]!;
  for (const c of CANONICAL) if (Math.abs(c.log - l) < Math.abs(best.log - l)) best = c;
  return { ms: best.ms, label: best.label };
}

/**
 * Instants a store can represent: InfluxDB and DuckDB keep nanoseconds in an int64,
 * which ends in April 2262; anything from 2200 on is a typo, not a question.
 */
export const MAX_INSTANT_MS = Date.UTC(2200, 0, 1);

/** RFC 3339 or epoch milliseconds, from 1970 to 2200. */
export function parseInstant(name: string, text: string): number {
  const digits = /^\d{1,16}$/.test(text);
  const ms = digits ? Number(text) : /^\d{4}-\d{2}-\d{2}T/.test(text) && isRealDateTime(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    throw new AppError('invalid_time', `${name}=${printable(text)} is invalid: use RFC 3339 (2026-11-26T12:00:00Z) or epoch milliseconds`, 400);
  }
  if (ms < 0 || ms >= MAX_INSTANT_MS) {
    throw new AppError('invalid_time', `${name}=${printable(text)} is out of range: use an instant from 1970 to 2199`, 400);
  }
  return ms;
}

/**
 * Date.parse rolls a date that does not exist over (2026-02-30 is 2 March, T24:00 the next
 * day): such a typo was answered for another range. The date and time as written must exist.
 */
function isRealDateTime(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?/.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute] = m.slice(1, 6).map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
}

export const MIN_STEP_MS = 1000;
export const MAX_STEP_MS = 366 * 86_400_000;

export function parseStep(text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms < MIN_STEP_MS || ms > MAX_STEP_MS) {
    throw new AppError('invalid_step', `step=${printable(text)} is invalid: use a duration from 1s to 366d such as 10s or 1m`, 400);
  }
  return ms;
}

const NICE_STEPS_MS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/** The smallest "nice" step that yields at most `target` points over the range. */
export function chooseStep(rangeMs: number, target: number): number {
  const raw = rangeMs / target;
  return NICE_STEPS_MS.find((s) => s >= raw) ?? Math.ceil(raw / 86_400_000) * 86_400_000;
}

/** Echoes a client's value in a message without its control characters and at most 64 characters of it. */
function printable(text: string): string {
  const clean = JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
  return clean.slice(1, -1);
}
