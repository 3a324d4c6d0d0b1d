import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PRECISIONS,
  encodeBatch,
  encodePoint,
  fromNanoseconds,
  parseLineProtocol,
  toNanoseconds,
  type FieldValue,
  type ParsedPoint,
  type PointInput,
  type Precision,
} from './index.ts';

/** mulberry32: small, seedable, good enough to drive a property test reproducibly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Every character with a meaning somewhere in line protocol, plus non-ASCII.
const SPECIAL = [' ', ',', '=', '"', '\\', '#', "'", '\\,', '\\ ', '\\=', '\\\\', '\\"', 'é', '🚀', '⚡️', '\u00a0', '\uFFFD', 'x', 'Y', '0', '-', '.', 'i', 'u', 't'];
const STRING_ONLY = ['\t', '\r', '\u0001', '\u007f'];

function gen(seed: number) {
  const r = prng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const str = (max: number, alphabet: readonly string[]): string => {
    let s = '';
    for (let n = int(max + 1); n > 0; n--) s += pick(alphabet);
    return s;
  };
  const name = (): string => {
    let s = str(8, SPECIAL);
    if (s === '' || s.endsWith('\\')) s += 'k'; // unrepresentable cases are tested in encode.test.ts
    return s;
  };
  const bigintIn = (lo: bigint, hi: bigint): bigint => {
    const edge = int(4);
    if (edge === 0) return lo;
    if (edge === 1) return hi;
    const span = hi - lo + 1n;
    const x = (BigInt(int(2 ** 30)) << 34n) | (BigInt(int(2 ** 30)) << 4n) | BigInt(int(16));
    return lo + (x * 4n + BigInt(int(4))) % span;
  };
  const float = (): number => {
    switch (int(5)) {
      case 0: return pick([0, -0, 1, -1, 5e-324, Number.MAX_VALUE, -Number.MIN_VALUE, 0.1, 1e21, 1e-7]);
      case 1: return int(1e6) - 5e5;
      case 2: return (r() - 0.5) * 10 ** (int(40) - 20);
      default: {
        const buf = new DataView(new ArrayBuffer(8));
        buf.setUint32(0, int(2 ** 32));
        buf.setUint32(4, int(2 ** 32));
        const v = buf.getFloat64(0);
        return Number.isFinite(v) ? v : 0.5;
      }
    }
  };
  const field = (): FieldValue => {
    switch (int(5)) {
      case 0: return { type: 'float', value: float() };
      case 1: return { type: 'integer', value: bigintIn(-(2n ** 63n), 2n ** 63n - 1n) };
      case 2: return { type: 'unsigned', value: bigintIn(0n, 2n ** 64n - 1n) };
      case 3: return { type: 'string', value: str(12, [...SPECIAL, ...STRING_ONLY]) };
      default: return { type: 'boolean', value: r() < 0.5 };
    }
  };
  const point = (): PointInput => {
    let measurement = name();
    if (measurement.startsWith('#')) measurement = `m${measurement}`;
    const tags: Record<string, string> = {};
    for (let n = int(4); n > 0; n--) tags[name()] = r() < 0.15 ? '' : name();
    const fields: Record<string, FieldValue> = {};
    for (let n = 1 + int(4); n > 0; n--) fields[name()] = field();
    const p: PointInput = { measurement, tags, fields };
    if (r() < 0.8) p.timeNs = bigintIn(-9223372036000000000n, 9223372036854775806n);
    return p;
  };
  return { point, pick };
}

const RESERVED = new Set(['time', '_measurement', '_field']);

function expected(p: PointInput, precision: Precision, line: number, def: bigint): ParsedPoint {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.tags ?? {})) {
    if (v !== '') Object.defineProperty(tags, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return {
    measurement: p.measurement,
    tags,
    fields: p.fields as Record<string, FieldValue>,
    timeNs: p.timeNs === undefined ? def : toNanoseconds(fromNanoseconds(p.timeNs, precision), precision),
    line,
  };
}

test('property: parse(encode(points)) gives the points back (seeded)', () => {
  for (const seed of [1, 2, 3, 0xc0ffee, 20240611]) {
    const g = gen(seed);
    const precision = g.pick(PRECISIONS);
    const points: PointInput[] = [];
    for (let n = 0; n < 400; n++) {
      const p = g.point();
      const names = [...Object.keys(p.tags ?? {}), ...Object.keys(p.fields)];
      if (names.some((k) => RESERVED.has(k))) continue;
      points.push(p);
    }
    const body = encodeBatch(points, precision);
    const parsed = parseLineProtocol(body, { precision, defaultTimeNs: -7n });
    assert.equal(parsed.length, points.length, `seed ${seed}`);
    points.forEach((p, idx) => {
      assert.deepEqual(parsed[idx], expected(p, precision, idx + 1, -7n), `seed ${seed}, line ${idx + 1}: ${encodePoint(p, precision)}`);
    });
  }
});

test('round-trips hand-picked tricky values', () => {
  const fields: Record<string, FieldValue> = JSON.parse('{"__proto__": {"type": "boolean", "value": true}}');
  Object.assign(fields, {
    'a,b=c d': { type: 'string', value: 'ends with backslash \\' },
    '"q"': { type: 'string', value: '\\"already escaped\\"' },
    '\\=': { type: 'string', value: '\\\\\\' },
    'k\\ ': { type: 'float', value: -1.234456e78 },
  });
  const tags: Record<string, string> = JSON.parse('{"__proto__": "p"}');
  Object.assign(tags, { ' lead': 'trail ', '=': ',', 'a\\b': '\\,\\ \\=', '#': '#' });
  const p: PointInput = { measurement: ' a=b,"c"\\d\\ e#', tags, fields, timeNs: 1n };
  const [back] = parseLineProtocol(`${encodePoint(p)}\n`, { defaultTimeNs: 0n });
  assert.deepEqual(back, expected(p, 'ns', 1, 0n));
});
