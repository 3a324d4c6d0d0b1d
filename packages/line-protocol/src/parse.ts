/**
 * Strict line-protocol parser: one forward scan per line over the original body string
 * (charCodeAt, no split, no regex), slicing only the tokens it keeps. The first bad line
 * throws, because callers reject the whole body rather than write part of it.
 */
import type { FieldValue, ParsedPoint, Precision } from './types.ts';
import { LineProtocolError, RESERVED_KEYS } from './types.ts';
import { isPrecision } from './precision.ts';
import { parseScalar, parseTimestamp, quote } from './values.ts';
import { detach, intern } from './strings.ts';
import { TAB, CR, SPACE, QUOTE, HASH, COMMA, EQ, BACKSLASH, DEL } from './chars.ts';
import { Buffer, isAscii, isUtf8 } from 'node:buffer';

export interface ParseOptions {
  /** Unit of the timestamps in the body; default 'ns'. */
  precision?: Precision;
  /** Time given to lines without a timestamp. */
  defaultTimeNs: bigint;
  /** Most point lines accepted; blank and comment lines do not count. */
  maxLines?: number;
  /**
   * Longest line accepted, in bytes as received (characters of a text body), CR excluded.
   * A line's parse runs in one go, so this bounds how long it holds the thread: one 8 MB
   * line of 800k fields took 4-9 s.
   */
  maxLineLength?: number;
}

/** Options of parseLineProtocolAsync. */
export interface AsyncParseOptions extends ParseOptions {
  /** Longest run of parsing between two turns of the event loop, ms (default 20). */
  sliceMs?: number;
}

/** Lines, and characters, parsed between two looks at the clock (parseLineProtocolAsync), whichever comes first. */
const LINES_PER_STEP = 256;
const CHARS_PER_STEP = 32 * 1024;


/** Plain assignment of "__proto__" would set the prototype and silently drop the key. */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function describeChar(c: number): string {
  return c < SPACE || c === DEL ? `U+${c.toString(16).toUpperCase().padStart(4, '0')}` : quote(String.fromCharCode(c));
}

/**
 * What the scanner throws; parseLineProtocol turns it into the LineProtocolError. An Error
 * created inside a scanner method would record the scanner as a stack frame's receiver,
 * and through it keep the whole body alive for as long as the error is kept.
 */
const SCAN_FAILED = Symbol('line-protocol scan failed');

/** A line's measurement and tags. The tags object is frozen: points with the same series key share it. */
interface SeriesKey {
  measurement: string;
  tags: Readonly<Record<string, string>>;
}

/**
 * Series keys already checked, by their text as written, shared across bodies (agents
 * send the same series every interval). Bounded like the intern table, so a stream of
 * distinct keys cannot grow it; long keys are not kept.
 */
const SERIES_KEYS_MAX = 20_000;
const SERIES_KEY_MAX_LENGTH = 1024;
const seriesKeys = new Map<string, SeriesKey>();
/** The same for bodies read as bytes (see parseLineProtocol): the same text means other names there. */
const byteSeriesKeys = new Map<string, SeriesKey>();
const MAX_REMEMBERED_FIELDS = 16;

class LineScanner {
  /** Cursor and exclusive end of the current line's content (trailing blanks and CR removed). */
  private i = 0;
  private end = 0;
  /** Reason for the last SCAN_FAILED. */
  failure = '';
  /** Field keys by position on the lines read so far (see readFieldKey). */
  private readonly fieldKeys: string[] = [];
  /** The last timestamp parsed, as written and as read (a slice of this body: the scanner lives as long as it). */
  private lastTimeText = '';
  private lastTimeNs = 0n;

  /** Series keys of this body's mode. */
  private readonly seriesKeys: Map<string, SeriesKey>;

  constructor(
    private readonly s: string,
    private readonly precision: Precision,
    private readonly defaultTimeNs: bigint,
    /** `s` holds UTF-8 bytes one per character (a latin1 view): kept names are decoded. */
    private readonly utf8Bytes = false,
  ) {
    this.seriesKeys = utf8Bytes ? byteSeriesKeys : seriesKeys;
  }

  /** A kept name or string as the text it is: in a byte view, UTF-8 sequences decoded. */
  private text(raw: string): string {
    if (this.utf8Bytes) {
      for (let k = 0; k < raw.length; k++) {
        if (raw.charCodeAt(k) > 0x7f) return Buffer.from(raw, 'latin1').toString('utf8');
      }
    }
    return raw;
  }


  fail(reason: string): never {
    this.failure = reason;
    throw SCAN_FAILED;
  }

  /** Code unit at the cursor, or -1 at end of line. */
  private peek(): number {
    return this.i < this.end ? this.s.charCodeAt(this.i) : -1;
  }

  /**
   * Reads a measurement (stopAtEq false: `,` and space end it and are its only escapes)
   * or a key / tag value (`,` `=` space). A backslash before any other character is a
   * literal backslash and does not consume that character, as in InfluxDB.
   */
  private readName(stopAtEq: boolean, what: string): string {
    const s = this.s;
    const end = this.end;
    let i = this.i;
    let from = i;
    let out = '';
    for (; i < end; i++) {
      const c = s.charCodeAt(i);
      if (c === BACKSLASH) {
        if (i + 1 < end) {
          const n = s.charCodeAt(i + 1);
          if (n === COMMA || n === SPACE || (stopAtEq && n === EQ)) {
            out += s.slice(from, i);
            from = i + 1; // the escaped character starts the next kept run
            i++;
          }
        }
        continue;
      }
      if (c === COMMA || c === SPACE || (stopAtEq && c === EQ)) break;
      if (c < SPACE || c === DEL) this.fail(`invalid control character ${describeChar(c)} in ${what}`);
    }
    this.i = i;
    return intern(this.text(out + s.slice(from, i)));
  }

  /** Cursor on the opening quote. `\"` and `\\` are the only escapes. */
  private readString(key: string): string {
    const s = this.s;
    const end = this.end;
    let from = this.i + 1;
    let out = '';
    for (let j = from; j < end; j++) {
      const c = s.charCodeAt(j);
      if (c === BACKSLASH) {
        if (j + 1 < end) {
          const n = s.charCodeAt(j + 1);
          if (n === QUOTE || n === BACKSLASH) {
            out += s.slice(from, j);
            from = j + 1;
            j++;
          }
        }
      } else if (c === QUOTE) {
        this.i = j + 1;
        return detach(this.text(out + s.slice(from, j)));
      }
    }
    return this.fail(
      `unterminated string value for key ${quote(key)} (missing closing quote; a string cannot span lines)`,
    );
  }

  private checkKey(key: string, what: 'tag' | 'field'): void {
    // Every reserved key starts with 't' or '_'; the prefilter keeps the Set lookup off the hot path.
    const c = key.charCodeAt(0);
    if ((c === 116 || c === 95) && RESERVED_KEYS.has(key)) this.fail(`${quote(key)} is reserved and cannot be a ${what} key`);
  }

  /**
   * End of the series key (measurement and tags) of the line at the cursor: its first
   * space that is not escaped, by the same escape rule as readName (a backslash escapes
   * only `,`, space and `=`; before anything else it is a literal character).
   */
  private seriesKeyEnd(): number {
    const s = this.s;
    const end = this.end;
    let j = this.i;
    for (; j < end; j++) {
      const c = s.charCodeAt(j);
      if (c === SPACE) break;
      if (c === BACKSLASH && j + 1 < end) {
        const n = s.charCodeAt(j + 1);
        if (n === COMMA || n === SPACE || n === EQ) j++;
      }
    }
    return j;
  }

  /** Measurement and tags, checked; the cursor ends on the space after them. */
  private readSeriesKey(): SeriesKey {
    const measurement = this.readName(false, 'measurement');
    if (measurement === '') this.fail('missing measurement');

    const tags: Record<string, string> = {};
    while (this.peek() === COMMA) {
      this.i++;
      const key = this.readName(true, 'tag key');
      if (key === '') this.fail('empty tag key');
      if (this.peek() !== EQ) this.fail(`missing "=" after tag key ${quote(key)}`);
      this.i++;
      const value = this.readName(true, 'tag value');
      if (this.peek() === EQ) this.fail(`unescaped "=" in tag value for key ${quote(key)}`);
      if (value === '') this.fail(`empty tag value for key ${quote(key)}`);
      this.checkKey(key, 'tag');
      if (Object.hasOwn(tags, key)) this.fail(`duplicate tag key ${quote(key)}`);
      setOwn(tags, key, value);
    }
    return { measurement, tags: Object.freeze(tags) };
  }

  /**
   * Field key at the cursor. Lines of one body mostly repeat the same field keys in the
   * same order, so the key seen at this position on an earlier line is tried first: an
   * in-place comparison instead of a slice and a lookup.
   */
  private readFieldKey(index: number): string {
    const known = this.fieldKeys[index];
    if (known !== undefined && this.s.startsWith(known, this.i) && this.s.charCodeAt(this.i + known.length) === EQ) {
      this.i += known.length;
      return known;
    }
    const from = this.i;
    const key = this.readName(true, 'field key');
    if (key === '') this.fail(this.i >= this.end ? 'missing field after ","' : 'empty field key');
    this.checkKey(key, 'field');
    // Only a key written without escapes reads back as its own text.
    if (this.i - from === key.length && index < MAX_REMEMBERED_FIELDS) this.fieldKeys[index] = key;
    return key;
  }

  parse(start: number, end: number, lineNo: number): ParsedPoint {
    this.i = start;
    this.end = end;

    // A body repeats each series key on many lines (InfluxDB keeps an index of them for
    // the same reason): a key seen before is one slice and one lookup, not a parse.
    const keyEnd = this.seriesKeyEnd();
    const keyText = this.s.slice(start, keyEnd);
    let series = this.seriesKeys.get(keyText);
    if (series === undefined) {
      series = this.readSeriesKey();
      if (this.i === keyEnd && keyText.length <= SERIES_KEY_MAX_LENGTH) {
        if (this.seriesKeys.size >= SERIES_KEYS_MAX) this.seriesKeys.clear();
        this.seriesKeys.set(detach(keyText), series);
      }
    } else {
      this.i = keyEnd;
    }
    const { measurement, tags } = series;

    if (this.peek() !== SPACE) this.fail('missing fields (a point needs at least one field)');
    // InfluxDB skips any run of spaces between sections; so do we, for compatibility.
    while (this.peek() === SPACE) this.i++;

    const fields: Record<string, FieldValue> = {};
    for (let index = 0; ; index++) {
      const key = this.readFieldKey(index);
      if (this.peek() !== EQ) this.fail(`missing "=" after field key ${quote(key)}`);
      this.i++;
      const c = this.peek();
      if (c === -1 || c === COMMA || c === SPACE) this.fail(`missing value for field key ${quote(key)}`);
      let value: FieldValue;
      if (c === QUOTE) {
        value = { type: 'string', value: this.readString(key) };
        const next = this.peek();
        if (next !== -1 && next !== COMMA && next !== SPACE) {
          this.fail(`unexpected character ${describeChar(next)} after string value for key ${quote(key)}`);
        }
      } else {
        let j = this.i;
        while (j < this.end) {
          const d = this.s.charCodeAt(j);
          if (d === COMMA || d === SPACE) break;
          j++;
        }
        const r = parseScalar(this.s, this.i, j, key);
        if (typeof r === 'string') this.fail(r);
        value = r;
        this.i = j;
      }
      setOwn(fields, key, value); // a repeated key keeps its last value, as InfluxDB does
      if (this.peek() !== COMMA) break;
      this.i++;
    }

    let timeNs = this.defaultTimeNs;
    if (this.i < this.end) {
      while (this.peek() === SPACE) this.i++;
      // Points of one batch mostly share timestamps (one per gather interval): reuse the last one's.
      const last = this.lastTimeText;
      if (this.end - this.i === last.length && this.s.startsWith(last, this.i)) {
        timeNs = this.lastTimeNs;
      } else {
        const t = parseTimestamp(this.s, this.i, this.end, this.precision);
        if (typeof t === 'string') this.fail(t);
        timeNs = t;
        this.lastTimeText = this.s.slice(this.i, this.end);
        this.lastTimeNs = t;
      }
    }
    return { measurement, tags, fields, timeNs, line: lineNo };
  }
}

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/**
 * Parses a body given as text, or as UTF-8 bytes (what arrives over HTTP). Bytes are
 * scanned as a one-byte string, which V8 builds several times faster than it decodes
 * UTF-8 (the structure is all ASCII and a UTF-8 sequence never contains an ASCII byte);
 * only the names and strings kept are decoded. Bytes that are not valid UTF-8 are refused.
 */
export function parseLineProtocol(body: string | Uint8Array, opts: ParseOptions): ParsedPoint[] {
  const steps = parseSteps(body, opts);
  try {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  } catch (err) {
    throw outsideTheParse(err);
  }
}

/**
 * An error made inside the parse's generator records its frame, and through it the whole
 * body, for as long as the error is kept (a response, a log): the same error made again here.
 */
function outsideTheParse(err: unknown): unknown {
  return err instanceof LineProtocolError ? new LineProtocolError(err.line, err.text, err.reason) : err;
}

/**
 * The same parse, giving the event loop a turn at least every `sliceMs` (20 ms): a 10 MB
 * body takes ~1 s (several on a loaded machine), during which a server answered nothing else.
 */
export async function parseLineProtocolAsync(body: string | Uint8Array, opts: AsyncParseOptions): Promise<ParsedPoint[]> {
  const sliceMs = opts.sliceMs ?? 20;
  const steps = parseSteps(body, opts);
  let sliceStart = performance.now();
  for (;;) {
    let r: IteratorResult<void, ParsedPoint[]>;
    try {
      r = steps.next();
    } catch (err) {
      throw outsideTheParse(err);
    }
    if (r.done) return r.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
}

/** The parse, yielding every LINES_PER_STEP lines; returns the points. */
function* parseSteps(body: string | Uint8Array, opts: ParseOptions): Generator<void, ParsedPoint[], undefined> {
  if (typeof body === 'string') return yield* parseText(body, opts, false);
  if (!isUtf8(body)) throw new LineProtocolError(0, '', 'the body is not valid UTF-8');
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (isAscii(bytes)) return yield* parseText(bytes.toString('latin1'), opts, false);
  try {
    // A UTF-8 byte order mark as bytes; parseText skips the character form.
    const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    return yield* parseText(bytes.toString('latin1', bom), opts, true);
  } catch (err) {
    if (!(err instanceof LineProtocolError)) throw err;
    // Errors quote the line as text: the rare failing body is read again as text for them.
    const text = bytes.toString('utf8');
    yield* parseText(text, opts, false);
    // Read as text it passed: a line too long in bytes is shorter in characters. The byte read's verdict stands.
    const line = text.split('\n', err.line)[err.line - 1] ?? '';
    throw new LineProtocolError(err.line, line.slice(0, 200), err.reason);
  }
}

function* parseText(body: string, opts: ParseOptions, utf8Bytes: boolean): Generator<void, ParsedPoint[], undefined> {
  const precision = opts.precision ?? 'ns';
  if (!isPrecision(precision)) throw new TypeError(`invalid precision ${String(precision)}`);
  if (typeof opts.defaultTimeNs !== 'bigint') throw new TypeError('defaultTimeNs must be a bigint');
  const maxLines = opts.maxLines ?? Number.POSITIVE_INFINITY;
  if (!(maxLines >= 0)) throw new TypeError('maxLines must be a non-negative number');
  const maxLineLength = opts.maxLineLength ?? Number.POSITIVE_INFINITY;
  if (!(maxLineLength > 0)) throw new TypeError('maxLineLength must be a positive number');

  const scanner = new LineScanner(body, precision, opts.defaultTimeNs, utf8Bytes);
  const out: ParsedPoint[] = [];
  const len = body.length;
  // A UTF-8 BOM (files saved by some Windows tools) would otherwise become part of the first measurement name.
  let pos = body.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNo = 0;
  let untilStep = LINES_PER_STEP;
  let stepEnd = pos + CHARS_PER_STEP;
  while (pos < len) {
    if (--untilStep === 0 || pos >= stepEnd) {
      untilStep = LINES_PER_STEP;
      stepEnd = pos + CHARS_PER_STEP;
      yield;
    }
    lineNo++;
    let nl = body.indexOf('\n', pos);
    if (nl === -1) nl = len;
    const lineStart = pos;
    pos = nl + 1;
    const textEnd = nl > lineStart && body.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
    if (textEnd - lineStart > maxLineLength) {
      throw new LineProtocolError(lineNo, body.slice(lineStart, lineStart + 200), `the line is ${textEnd - lineStart} bytes long; the limit is ${maxLineLength}`);
    }
    let end = textEnd;
    while (end > lineStart && isBlank(body.charCodeAt(end - 1))) end--;
    let start = lineStart;
    while (start < end && isBlank(body.charCodeAt(start))) start++;
    if (start === end || body.charCodeAt(start) === HASH) continue;
    if (out.length >= maxLines) {
      throw new LineProtocolError(lineNo, body.slice(lineStart, Math.min(textEnd, lineStart + 200)), `too many lines (limit ${maxLines})`);
    }
    let point: ParsedPoint;
    try {
      point = scanner.parse(start, end, lineNo);
    } catch (err) {
      if (err !== SCAN_FAILED) throw err;
      throw new LineProtocolError(lineNo, body.slice(lineStart, Math.min(textEnd, lineStart + 200)), scanner.failure);
    }
    out.push(point);
  }
  return out;
}
