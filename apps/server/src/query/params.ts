/** Parsing of the query parameters shared by several routes: windows, instants and steps. */
import { parseDuration } from '../config.ts';
import { AppError } from '../http/errors.ts';

export const MIN_WINDOW_MS = 10_000;
export const MAX_WINDOW_MS = 7 * 86_400_000;

export function parseWindow(text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms < MIN_WINDOW_MS || ms > MAX_WINDOW_MS) {
    throw new AppError('invalid_window', `window=${text} is invalid: use a duration from 10s to 7d such as 5m or 1h`, 400);
  }
  return ms;
}

/** RFC 3339 or epoch milliseconds. */
export function parseInstant(name: string, text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms) || (!/^\d+$/.test(text) && !/^\d{4}-\d{2}-\d{2}T/.test(text))) {
    throw new AppError('invalid_time', `${name}=${text} is invalid: use RFC 3339 (2026-11-26T12:00:00Z) or epoch milliseconds`, 400);
  }
  return ms;
}

export function parseStep(text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms < 1000) {
    throw new AppError('invalid_step', `step=${text} is invalid: use a duration of at least 1s such as 10s or 1m`, 400);
  }
  return ms;
}

const NICE_STEPS_MS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].map((s) => s * 1000);

/** The smallest "nice" step that yields at most `target` points over the range. */
export function chooseStep(rangeMs: number, target: number): number {
  const raw = rangeMs / target;
  return NICE_STEPS_MS.find((s) => s >= raw) ?? Math.ceil(raw / 86_400_000) * 86_400_000;
}
