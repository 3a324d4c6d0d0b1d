/**
 * Encoder. Everything it emits is accepted by parseLineProtocol and parses back to the
 * same values; inputs that line protocol cannot represent throw instead of being mangled.
 *
 * Errors: TypeError for values of the wrong kind or that cannot be written (empty
 * measurement, no fields, non-finite float, control characters, a name ending in a
 * backslash, a newline in a string); RangeError for integers and timestamps out of range.
 */
import type { FieldInput, FieldValue, PointInput, Precision } from './types.ts';
import { INT64_MAX, INT64_MIN, RESERVED_KEYS, UINT64_MAX } from './types.ts';
import { fromNanoseconds, isPrecision, MAX_TIME_NS, MIN_TIME_NS, toNanoseconds } from './precision.ts';
import { SPACE, QUOTE, HASH, COMMA, EQ, BACKSLASH, DEL } from './chars.ts';


/**
 * Escapes `,` and space (and `=` when escapeEq). Backslashes are never escaped: line
 * protocol has no escape for them outside strings, so `\` before an ordinary character
 * is already literal. Hence a trailing backslash is unwritable: it would escape the
 * separator that follows.
 */
function escapeName(s: string, escapeEq: boolean, what: string): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === COMMA || c === SPACE || (escapeEq && c === EQ)) {
      out += `${s.slice(from, i)}\\`;
      from = i;
    } else if (c < SPACE || c === DEL) {
      throw new TypeError(`${what} ${JSON.stringify(s)} contains a control character`);
    }
  }
  if (s.charCodeAt(s.length - 1) === BACKSLASH) {
    throw new TypeError(`${what} ${JSON.stringify(s)} ends with a backslash, which line protocol cannot represent`);
  }
  return out === '' ? s : out + s.slice(from);
}

function escapeString(s: string, key: string): string {
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === QUOTE || c === BACKSLASH) {
      out += `${s.slice(from, i)}\\`;
      from = i;
    } else if (c === 10) {
      throw new TypeError(`string value of field ${JSON.stringify(key)} contains a newline, which line protocol cannot represent`);
    }
  }
  return `${out}${s.slice(from)}"`;
}

function checkKey(key: string, what: string): void {
  if (key === '') throw new TypeError(`empty ${what}`);
  if (RESERVED_KEYS.has(key)) throw new TypeError(`${JSON.stringify(key)} is reserved and cannot be a ${what}`);
}

function encodeTyped(v: FieldValue, key: string): string {
  switch (v.type) {
    case 'float':
      if (typeof v.value !== 'number' || !Number.isFinite(v.value)) {
        throw new TypeError(`field ${JSON.stringify(key)}: float must be a finite number, got ${String(v.value)}`);
      }
      // String() is the shortest exact form ("1e+21", "5e-324"), all inside the float grammar.
      return Object.is(v.value, -0) ? '-0' : String(v.value);
    case 'integer':
      if (typeof v.value !== 'bigint') throw new TypeError(`field ${JSON.stringify(key)}: integer value must be a bigint`);
      if (v.value < INT64_MIN || v.value > INT64_MAX) throw new RangeError(`field ${JSON.stringify(key)}: ${v.value} is outside int64`);
      return `${v.value}i`;
    case 'unsigned':
      if (typeof v.value !== 'bigint') throw new TypeError(`field ${JSON.stringify(key)}: unsigned value must be a bigint`);
      if (v.value < 0n || v.value > UINT64_MAX) throw new RangeError(`field ${JSON.stringify(key)}: ${v.value} is outside uint64`);
      return `${v.value}u`;
    case 'string':
      if (typeof v.value !== 'string') throw new TypeError(`field ${JSON.stringify(key)}: string value must be a string`);
      return escapeString(v.value, key);
    case 'boolean':
      if (typeof v.value !== 'boolean') throw new TypeError(`field ${JSON.stringify(key)}: boolean value must be a boolean`);
      return v.value ? 'true' : 'false';
    default:
      throw new TypeError(`field ${JSON.stringify(key)}: unknown field type ${JSON.stringify((v as { type: unknown }).type)}`);
  }
}

function encodeFieldValue(v: FieldInput, key: string): string {
  switch (typeof v) {
    case 'number':
      return encodeTyped({ type: 'float', value: v }, key);
    case 'string':
      return escapeString(v, key);
    case 'boolean':
      return v ? 'true' : 'false';
    default:
      if (v === null || typeof v !== 'object') throw new TypeError(`field ${JSON.stringify(key)}: unsupported value ${String(v)}`);
      return encodeTyped(v, key);
  }
}

/**
 * Code-point order, which is the UTF-8 byte order of Go's bytes.Compare that InfluxDB
 * recommends sorting tags by. Plain `<` compares UTF-16 units and puts astral characters
 * before U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs && !ys && y >= 0xe000) return 1;
    if (ys && !xs && x >= 0xe000) return -1;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * One line, no trailing newline. Tags sorted by key, empty tag values left out (InfluxDB
 * forbids them), fields in insertion order. The timestamp is converted from ns to
 * `precision` rounding toward negative infinity (see fromNanoseconds).
 */
export function encodePoint(p: PointInput, precision: Precision = 'ns'): string {
  if (!isPrecision(precision)) throw new TypeError(`invalid precision ${String(precision)}`);
  const m = p.measurement;
  if (typeof m !== 'string' || m === '') throw new TypeError('measurement must be a non-empty string');
  if (m.charCodeAt(0) === HASH) throw new TypeError(`measurement ${JSON.stringify(m)} starts with "#" and would read as a comment`);
  let line = escapeName(m, false, 'measurement');

  if (p.tags !== undefined) {
    const tags = p.tags;
    const keys = Object.keys(tags).sort(compareCodePoints);
    for (const k of keys) {
      const v = tags[k];
      if (typeof v !== 'string') throw new TypeError(`tag ${JSON.stringify(k)}: value must be a string`);
      if (v === '') continue;
      checkKey(k, 'tag key');
      line += `,${escapeName(k, true, 'tag key')}=${escapeName(v, true, 'tag value')}`;
    }
  }

  let sep = ' ';
  for (const k of Object.keys(p.fields)) {
    checkKey(k, 'field key');
    line += `${sep}${escapeName(k, true, 'field key')}=${encodeFieldValue(p.fields[k] as FieldInput, k)}`;
    sep = ',';
  }
  if (sep === ' ') throw new TypeError(`point ${JSON.stringify(m)} has no fields`);

  if (p.timeNs !== undefined) {
    if (typeof p.timeNs !== 'bigint') throw new TypeError('timeNs must be a bigint');
    const ts = fromNanoseconds(p.timeNs, precision);
    const back = toNanoseconds(ts, precision);
    // Checked after rounding: near the lower bound, flooring to a coarser unit can leave the range.
    if (p.timeNs > MAX_TIME_NS || back < MIN_TIME_NS) {
      throw new RangeError(`timeNs ${p.timeNs} is outside InfluxDB's time range at precision ${precision}`);
    }
    line += ` ${ts}`;
  }
  return line;
}

/** Lines joined by '\n' with a trailing '\n'; an empty array gives ''. */
export function encodeBatch(points: PointInput[], precision: Precision = 'ns'): string {
  if (points.length === 0) return '';
  const lines = new Array<string>(points.length);
  for (let i = 0; i < points.length; i++) lines[i] = encodePoint(points[i] as PointInput, precision);
  return `${lines.join('\n')}\n`;
}
