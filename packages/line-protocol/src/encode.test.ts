import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PRECISIONS,
  encodeBatch,
  encodePoint,
  fromNanoseconds,
  isPrecision,
  parseLineProtocol,
  toNanoseconds,
  type PointInput,
  type Precision,
} from './index.ts';

const T = 1556813561098000000n;

test('encodes measurement, sorted tags, fields in order, timestamp', () => {
  assert.equal(
    encodePoint({ measurement: 'cpu', tags: { region: 'us-west', host: 'a' }, fields: { v: 1.5, n: { type: 'integer', value: 3n } }, timeNs: T }),
    'cpu,host=a,region=us-west v=1.5,n=3i 1556813561098000000',
  );
  assert.equal(encodePoint({ measurement: 'cpu', fields: { v: 1 } }), 'cpu v=1');
});

test('timestamp precision, rounding toward negative infinity', () => {
  const p = (timeNs: bigint, precision?: Precision): string => encodePoint({ measurement: 'm', fields: { v: 1 }, timeNs }, precision);
  assert.equal(p(T), `m v=1 ${T}`);
  assert.equal(p(T, 'us'), 'm v=1 1556813561098000');
  assert.equal(p(T, 'ms'), 'm v=1 1556813561098');
  assert.equal(p(T, 's'), 'm v=1 1556813561');
  assert.equal(p(1_999_999_999n, 's'), 'm v=1 1');
  assert.equal(p(-1n, 'ms'), 'm v=1 -1');
  assert.equal(p(-1_000_000n, 'ms'), 'm v=1 -1');
  assert.equal(p(-1_000_001n, 'ms'), 'm v=1 -2');
});

test('field value forms', () => {
  const v = (x: PointInput['fields'][string]): string => encodePoint({ measurement: 'm', fields: { v: x } }).slice(4);
  assert.equal(v(82), '82');
  assert.equal(v(-0), '-0');
  assert.equal(v(1e21), '1e+21');
  assert.equal(v(5e-324), '5e-324');
  assert.equal(v(0.1), '0.1');
  assert.equal(v({ type: 'float', value: 2 }), '2');
  assert.equal(v({ type: 'integer', value: -9223372036854775808n }), '-9223372036854775808i');
  assert.equal(v({ type: 'unsigned', value: 18446744073709551615n }), '18446744073709551615u');
  assert.equal(v(true), 'true');
  assert.equal(v({ type: 'boolean', value: false }), 'false');
  assert.equal(v('say "hi" \\o/'), String.raw`"say \"hi\" \\o/"`);
  assert.equal(v({ type: 'string', value: '' }), '""');
});

test('escaping per position', () => {
  assert.equal(
    encodePoint({ measurement: 'my Meas,x=y', tags: { 'tag Key,=': 'v a,l=ue' }, fields: { 'f k,=': 'a, b=c' } }),
    String.raw`my\ Meas\,x=y,tag\ Key\,\==v\ a\,l\=ue f\ k\,\=="a, b=c"`,
  );
  // Backslashes outside strings are already literal, so they are written as they are.
  assert.equal(encodePoint({ measurement: String.raw`C:\temp`, tags: { p: String.raw`a\,b` }, fields: { v: 1 } }), String.raw`C:\temp,p=a\\,b v=1`);
});

test('empty tag values are left out', () => {
  assert.equal(encodePoint({ measurement: 'm', tags: { a: '', b: 'x', c: '' }, fields: { v: 1 } }), 'm,b=x v=1');
  assert.equal(encodePoint({ measurement: 'm', tags: { a: '' }, fields: { v: 1 } }), 'm v=1');
});

test('tags sort by code point (Go bytes.Compare order), not UTF-16 units', () => {
  const tags = { '😀': '1', '\uFFFD': '2', b: '3', B: '4', a: '5', ab: '6' };
  assert.equal(encodePoint({ measurement: 'm', tags, fields: { v: 1 } }), 'm,B=4,a=5,ab=6,b=3,\uFFFD=2,😀=1 v=1');
});

test('unrepresentable input throws', () => {
  const bad: Array<[PointInput, ErrorConstructor | RangeErrorConstructor | TypeErrorConstructor, RegExp]> = [
    [{ measurement: 'm', fields: {} }, TypeError, /no fields/],
    [{ measurement: '', fields: { v: 1 } }, TypeError, /measurement/],
    [{ measurement: '#m', fields: { v: 1 } }, TypeError, /comment/],
    [{ measurement: 'm', fields: { v: Number.NaN } }, TypeError, /finite/],
    [{ measurement: 'm', fields: { v: Number.POSITIVE_INFINITY } }, TypeError, /finite/],
    [{ measurement: 'm', fields: { v: { type: 'float', value: Number.NEGATIVE_INFINITY } } }, TypeError, /finite/],
    [{ measurement: 'm\\', fields: { v: 1 } }, TypeError, /backslash/],
    [{ measurement: 'm', tags: { t: 'a\\' }, fields: { v: 1 } }, TypeError, /backslash/],
    [{ measurement: 'm', fields: { 'k\\': 1 } }, TypeError, /backslash/],
    [{ measurement: 'm', tags: { t: 'a\tb' }, fields: { v: 1 } }, TypeError, /control character/],
    [{ measurement: 'm\n', fields: { v: 1 } }, TypeError, /control character/],
    [{ measurement: 'm', fields: { s: 'two\nlines' } }, TypeError, /newline/],
    [{ measurement: 'm', fields: { '': 1 } }, TypeError, /empty field key/],
    [{ measurement: 'm', tags: { '': 'x' }, fields: { v: 1 } }, TypeError, /empty tag key/],
    [{ measurement: 'm', fields: { time: 1 } }, TypeError, /reserved/],
    [{ measurement: 'm', tags: { _field: 'x' }, fields: { v: 1 } }, TypeError, /reserved/],
    [{ measurement: 'm', fields: { v: { type: 'integer', value: 2n ** 63n } } }, RangeError, /int64/],
    [{ measurement: 'm', fields: { v: { type: 'unsigned', value: -1n } } }, RangeError, /uint64/],
    [{ measurement: 'm', fields: { v: { type: 'integer', value: 1 as unknown as bigint } } }, TypeError, /bigint/],
    [{ measurement: 'm', fields: { v: null as unknown as number } }, TypeError, /unsupported/],
    [{ measurement: 'm', fields: { v: 1 }, timeNs: 2n ** 63n - 1n }, RangeError, /time range/],
    [{ measurement: 'm', fields: { v: 1 }, timeNs: 5 as unknown as bigint }, TypeError, /bigint/],
  ];
  for (const [p, type, msg] of bad) assert.throws(() => encodePoint(p), (e: unknown) => e instanceof type && msg.test((e as Error).message), JSON.stringify(p, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)));
  // Flooring to seconds near the lower bound would leave InfluxDB's range.
  assert.throws(() => encodePoint({ measurement: 'm', fields: { v: 1 }, timeNs: -9223372036854775806n }, 's'), RangeError);
  assert.equal(encodePoint({ measurement: 'm', fields: { v: 1 }, timeNs: -9223372036854775806n }), 'm v=1 -9223372036854775806');
  assert.throws(() => encodePoint({ measurement: 'm', fields: { v: 1 } }, 'h' as Precision), TypeError);
});

test('encodeBatch joins lines with a trailing newline', () => {
  assert.equal(encodeBatch([]), '');
  const body = encodeBatch([{ measurement: 'a', fields: { v: 1 }, timeNs: 2_000_000n }, { measurement: 'b', fields: { s: 'x' } }], 'ms');
  assert.equal(body, 'a v=1 2\nb s="x"\n');
  const pts = parseLineProtocol(body, { precision: 'ms', defaultTimeNs: 9n });
  assert.deepEqual(pts.map((p) => [p.measurement, p.timeNs, p.line]), [['a', 2_000_000n, 1], ['b', 9n, 2]]);
});

test('precision helpers', () => {
  assert.deepEqual([...PRECISIONS], ['ns', 'us', 'ms', 's']);
  for (const p of PRECISIONS) assert.ok(isPrecision(p));
  for (const x of ['h', 'NS', '', 1, null, undefined, {}]) assert.equal(isPrecision(x), false);
  assert.equal(toNanoseconds(3n, 's'), 3_000_000_000n);
  assert.equal(toNanoseconds(-3n, 'us'), -3_000n);
  assert.equal(toNanoseconds(3n, 'ns'), 3n);
  assert.equal(fromNanoseconds(1_999_999n, 'ms'), 1n);
  assert.equal(fromNanoseconds(-1n, 's'), -1n);
  assert.equal(fromNanoseconds(-1_000_000_000n, 's'), -1n);
  assert.equal(fromNanoseconds(-1_000_000_001n, 's'), -2n);
  assert.equal(fromNanoseconds(7n, 'ns'), 7n);
  for (const p of PRECISIONS) {
    for (const ns of [0n, 1n, -1n, 999n, -999n, 123456789012345678n, -123456789012345678n]) {
      const back = toNanoseconds(fromNanoseconds(ns, p), p);
      assert.ok(back <= ns && ns - back < toNanoseconds(1n, p), `${ns} ${p}`);
    }
  }
});
