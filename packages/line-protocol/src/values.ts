/**
 * Field-value and timestamp tokens. These return a reason string instead of throwing so
 * the line scanner can attach the line number and text in one place.
 */
import type { FieldValue, Precision } from './types.ts';
import { INT64_MAX, INT64_MIN, UINT64_MAX } from './types.ts';
import { MAX_TIME_NS, MIN_TIME_NS, toNanoseconds } from './precision.ts';

const MINUS = 45;
const DOT = 46;
const D0 = 48;
const D9 = 57;
const E_LOWER = 101;
const E_UPPER = 69;
const PLUS = 43;
const I_LOWER = 105;
const U_LOWER = 117;
const SPACE = 32;

/** JSON quoting shows control characters visibly; long tokens are cut so reasons stay short. */
export function quote(x: string): string {
  return JSON.stringify(x.length > 60 ? `${x.slice(0, 60)}…` : x);
}

function isDigit(c: number): boolean {
  return c >= D0 && c <= D9;
}

/** Index after a run of digits starting at i. */
function skipDigits(s: string, i: number, end: number): number {
  while (i < end && isDigit(s.charCodeAt(i))) i++;
  return i;
}

/** `[-]digits` exactly filling [a, b). */
function isSignedDigits(s: string, a: number, b: number, allowMinus: boolean): boolean {
  let i = a;
  if (allowMinus && i < b && s.charCodeAt(i) === MINUS) i++;
  return i < b && skipDigits(s, i, b) === b;
}

/**
 * The float grammar of InfluxData's line-protocol spec: [-] then `1`, `1.`, `1.5`, `.5`,
 * each with an optional exponent (`1e5`, `1.E+78`). No `+` sign, no NaN/Inf, no hex.
 * Checked by hand because Number() alone would accept `0x10`, `Infinity` and ` 1`.
 */
function isFloatSyntax(s: string, a: number, b: number): boolean {
  let i = a;
  if (s.charCodeAt(i) === MINUS) i++;
  const intStart = i;
  i = skipDigits(s, i, b);
  let digits = i - intStart;
  if (i < b && s.charCodeAt(i) === DOT) {
    const fracStart = ++i;
    i = skipDigits(s, i, b);
    digits += i - fracStart;
  }
  if (digits === 0) return false;
  if (i < b && (s.charCodeAt(i) === E_LOWER || s.charCodeAt(i) === E_UPPER)) {
    i++;
    if (i < b && (s.charCodeAt(i) === PLUS || s.charCodeAt(i) === MINUS)) i++;
    const expStart = i;
    i = skipDigits(s, i, b);
    if (i === expStart) return false;
  }
  return i === b;
}

/**
 * BigInt of a checked `[-]digits` run, or undefined past 20 significant digits (outside
 * any 64-bit range anyway). The cap also keeps a multi-megabyte digit run, which BigInt()
 * parses in superlinear time, from stalling the server.
 */
function toBigInt(s: string, a: number, b: number): bigint | undefined {
  let i = a;
  const neg = s.charCodeAt(i) === MINUS;
  if (neg) i++;
  while (i < b - 1 && s.charCodeAt(i) === D0) i++;
  if (b - i > 20) return undefined;
  const v = BigInt(s.slice(i, b));
  return neg ? -v : v;
}

/** 10^0 .. 10^22: every power of ten a double holds exactly. */
const EXACT_POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * `[-]digits[.digits]` with at most 15 digits, read without a slice: the digits form an
 * exact integer and 10^fraction is exact, so one division gives the correctly rounded
 * double, the same value Number() gives (Clinger's fast path). Undefined for anything
 * else (exponents, long mantissas, bad syntax), which takes the general path.
 */
function simpleDecimal(s: string, a: number, b: number): number | undefined {
  let i = a;
  const neg = s.charCodeAt(i) === MINUS;
  if (neg) i++;
  let mantissa = 0;
  let digits = 0;
  let fraction = -1;
  for (; i < b; i++) {
    const c = s.charCodeAt(i);
    if (c >= D0 && c <= D9) {
      mantissa = mantissa * 10 + (c - D0);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === DOT && fraction < 0) {
      fraction = 0;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || digits > 15) return undefined;
  const v = fraction > 0 ? mantissa / EXACT_POWERS_OF_TEN[fraction]! : mantissa;
  return neg ? -v : v;
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['t', 'T', 'true', 'True', 'TRUE']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['f', 'F', 'false', 'False', 'FALSE']);

/** An unquoted field value occupying [a, b) (non-empty). */
export function parseScalar(s: string, a: number, b: number, key: string): FieldValue | string {
  const first = s.charCodeAt(a);
  const last = s.charCodeAt(b - 1);
  if (last === I_LOWER && isSignedDigits(s, a, b - 1, true)) {
    const v = toBigInt(s, a, b - 1);
    if (v === undefined || v < INT64_MIN || v > INT64_MAX) {
      return `integer field value ${quote(s.slice(a, b))} out of int64 range for key ${quote(key)}`;
    }
    return { type: 'integer', value: v };
  }
  if (last === U_LOWER && isSignedDigits(s, a, b - 1, false)) {
    const v = toBigInt(s, a, b - 1);
    if (v === undefined || v > UINT64_MAX) {
      return `unsigned field value ${quote(s.slice(a, b))} out of uint64 range for key ${quote(key)}`;
    }
    return { type: 'unsigned', value: v };
  }
  if (first === MINUS || first === DOT || isDigit(first)) {
    const fast = simpleDecimal(s, a, b);
    if (fast !== undefined) return { type: 'float', value: fast };
    if (isFloatSyntax(s, a, b)) {
      const v = Number(s.slice(a, b));
      if (!Number.isFinite(v)) {
        return `float field value ${quote(s.slice(a, b))} out of float64 range for key ${quote(key)}`;
      }
      return { type: 'float', value: v };
    }
  } else {
    const word = s.slice(a, b);
    if (TRUE_WORDS.has(word)) return { type: 'boolean', value: true };
    if (FALSE_WORDS.has(word)) return { type: 'boolean', value: false };
  }
  return `invalid field value ${quote(s.slice(a, b))} for key ${quote(key)}`;
}

/** The rest of the line after the fields' separating space: [a, b), non-empty. */
export function parseTimestamp(s: string, a: number, b: number, precision: Precision): bigint | string {
  let tokEnd = s.indexOf(' ', a);
  if (tokEnd === -1 || tokEnd > b) tokEnd = b;
  if (!isSignedDigits(s, a, tokEnd, true)) return `invalid timestamp ${quote(s.slice(a, tokEnd))}`;
  if (tokEnd < b) {
    let i = tokEnd;
    while (i < b && s.charCodeAt(i) === SPACE) i++;
    return `unexpected text after timestamp: ${quote(s.slice(i, b))}`;
  }
  const raw = toBigInt(s, a, b);
  // InfluxDB reads the number as int64 in the request's precision before scaling it.
  if (raw === undefined || raw < INT64_MIN || raw > INT64_MAX) return `timestamp ${quote(s.slice(a, b))} out of int64 range`;
  const ns = toNanoseconds(raw, precision);
  if (ns < MIN_TIME_NS || ns > MAX_TIME_NS) {
    return `timestamp ${quote(s.slice(a, b))} (precision ${precision}) out of range (1677-09-21 .. 2262-04-11)`;
  }
  return ns;
}
