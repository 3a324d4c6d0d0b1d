/**
 * Latency injections: "make these series slower by this factor during this window".
 * They let a demo or a test trigger the regression detector on purpose, so the spec
 * string is parsed strictly and every error names the key that is wrong.
 */

export interface Injection {
  /** POP codes (upper case) or '*' for every POP. */
  pops: string[] | '*';
  /** Function names or '*' for every function. */
  functions: string[] | '*';
  /** Multiplier applied to the sampled latency while active (> 0). */
  factor: number;
  /** Absolute start, epoch milliseconds. */
  startMs: number;
  /** Length of the window in milliseconds; Infinity = until the process stops. */
  durationMs: number;
}

const KEYS = ['pops', 'functions', 'factor', 'start', 'duration'] as const;
type Key = (typeof KEYS)[number];

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
// RFC 3339 needs an explicit offset; without one Date.parse would guess local time.
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** "10m", "30s", "1.5h", "250ms", "5000" (plain number = ms). Returns null when malformed. */
export function parseDurationMs(text: string): number | null {
  const m = DURATION_RE.exec(text.trim());
  if (!m) return null;
  const value = Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? 1);
  return Number.isFinite(value) ? value : null;
}

function parseStart(text: string, nowMs: number): number | null {
  const t = text.trim();
  if (t === 'now') return nowMs;
  if (t.startsWith('+') || t.startsWith('-')) {
    const d = parseDurationMs(t.slice(1));
    if (d === null) return null;
    return t.startsWith('+') ? nowMs + d : nowMs - d;
  }
  if (/^\d+$/.test(t)) return Number(t);
  if (RFC3339_RE.test(t)) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

function parseList(text: string, upper: boolean): string[] | '*' | null {
  const t = text.trim();
  if (t === '*') return '*';
  const items = t
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => (upper ? s.toUpperCase() : s));
  return items.length > 0 ? [...new Set(items)] : null;
}

/**
 * Parses "pops=FRA,AMS;functions=image-resize;factor=2;start=+30s;duration=10m".
 * factor is required; pops and functions default to '*', start to now, duration to forever.
 * start accepts now, +30s / -5m (relative to nowMs), RFC 3339 with offset, or epoch ms.
 */
export function parseInjection(spec: string, nowMs: number): Injection {
  const bad = (key: string, accepts: string, got: string): Error =>
    new Error(`injection "${spec}": ${key} must be ${accepts} (got "${got}")`);
  const seen = new Map<Key, string>();
  for (const part of spec.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new Error(`injection "${spec}": "${part.trim()}" is not key=value`);
    const key = part.slice(0, eq).trim();
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new Error(`injection "${spec}": unknown key "${key}" (expected ${KEYS.join(', ')})`);
    }
    if (seen.has(key as Key)) throw new Error(`injection "${spec}": key "${key}" given twice`);
    seen.set(key as Key, part.slice(eq + 1));
  }

  const factorText = seen.get('factor');
  if (factorText === undefined) throw new Error(`injection "${spec}": factor is required (e.g. factor=2)`);
  const factor = Number(factorText.trim());
  if (factorText.trim() === '' || !Number.isFinite(factor) || factor <= 0) {
    throw bad('factor', 'a number > 0', factorText);
  }

  const popsText = seen.get('pops');
  const pops = popsText === undefined ? '*' : parseList(popsText, true);
  if (pops === null) throw bad('pops', 'a comma list of POP codes or *', popsText ?? '');

  const functionsText = seen.get('functions');
  const functions = functionsText === undefined ? '*' : parseList(functionsText, false);
  if (functions === null) throw bad('functions', 'a comma list of function names or *', functionsText ?? '');

  const startText = seen.get('start');
  const startMs = startText === undefined ? nowMs : parseStart(startText, nowMs);
  if (startMs === null) throw bad('start', 'now, +30s, +5m, an RFC 3339 time with offset or epoch ms', startText ?? '');

  const durationText = seen.get('duration');
  const durationMs = durationText === undefined ? Infinity : parseDurationMs(durationText);
  if (durationMs === null || durationMs <= 0) {
    throw bad('duration', 'a positive duration like 500ms, 30s, 10m, 2h', durationText ?? '');
  }

  return { pops, functions, factor, startMs, durationMs };
}

/** True when the injection applies to this series at time tMs (window is [start, start + duration)). */
export function injectionApplies(inj: Injection, popCode: string, functionName: string, tMs: number): boolean {
  if (tMs < inj.startMs || tMs - inj.startMs >= inj.durationMs) return false;
  if (inj.pops !== '*' && !inj.pops.includes(popCode)) return false;
  return inj.functions === '*' || inj.functions.includes(functionName);
}
