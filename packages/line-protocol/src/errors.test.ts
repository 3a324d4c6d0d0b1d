import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineProtocolError, parseLineProtocol, type Precision } from './index.ts';

function failure(body: string, opts: { precision?: Precision; maxLines?: number } = {}): LineProtocolError {
  try {
    parseLineProtocol(body, { defaultTimeNs: 0n, ...opts });
  } catch (err) {
    assert.ok(err instanceof LineProtocolError, `expected LineProtocolError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(body)} to be rejected`);
}

// [body, expected line, reason substring]
const BAD: Array<[string, number, string]> = [
  // structure
  ['m', 1, 'missing fields'],
  ['m,t=a', 1, 'missing fields'],
  [String.raw`m\ v=1`, 1, 'missing fields'],
  [',t=a v=1', 1, 'missing measurement'],
  // tags
  ['m, v=1', 1, 'empty tag key'],
  ['m,=a v=1', 1, 'empty tag key'],
  ['m,t=a, v=1', 1, 'empty tag key'],
  ['m,t v=1', 1, 'missing "=" after tag key "t"'],
  ['m,t,u=1 v=1', 1, 'missing "=" after tag key "t"'],
  ['m,t= v=1', 1, 'empty tag value for key "t"'],
  ['m,t=,u=1 v=1', 1, 'empty tag value for key "t"'],
  ['m,t=a=b v=1', 1, 'unescaped "=" in tag value for key "t"'],
  ['m,t=a,t=b v=1', 1, 'duplicate tag key "t"'],
  // fields
  ['m v', 1, 'missing "=" after field key "v"'],
  ['m v 123', 1, 'missing "=" after field key "v"'],
  ['m v=', 1, 'missing value for field key "v"'],
  ['m v=,w=1', 1, 'missing value for field key "v"'],
  ['m v= 1', 1, 'missing value for field key "v"'],
  ['m =1', 1, 'empty field key'],
  ['m v=1,,w=2', 1, 'empty field key'],
  ['m v=1, w=2', 1, 'empty field key'],
  ['m v=1,', 1, 'missing field after ","'],
  ['m s="abc', 1, 'unterminated string value for key "s"'],
  [String.raw`m s="abc\"`, 1, 'unterminated string value for key "s"'],
  ['m s="abc"x', 1, 'unexpected character "x" after string value for key "s"'],
  ['m s="a""b"', 1, 'unexpected character "\\"" after string value'],
  ['m v=12x', 1, 'invalid field value "12x" for key "v"'],
  ['m v="a",w=12x', 1, 'invalid field value "12x" for key "w"'],
  // numbers: no NaN/Inf, no '+', no hex, no separators, complete exponent
  ...['NaN', 'nan', 'Inf', '-Inf', '+Inf', 'Infinity', '+1', '0x10', '1e', '1e+', '.', '-', '-.', '.e5', '1.2.3', '1_000', '1f', "'1'"].map(
    (v): [string, number, string] => [`m v=${v}`, 1, `invalid field value ${JSON.stringify(v)}`],
  ),
  // booleans: only the listed spellings
  ...['tru', 'TRue', 'yes', 'FaLse', 'tt'].map((v): [string, number, string] => [`m v=${v}`, 1, `invalid field value "${v}"`]),
  // integer / unsigned suffixes
  ...['1.5i', '1e3i', 'i', '-i', '+1i', '1I', '-1u', '1.0u', 'u', '1iu'].map(
    (v): [string, number, string] => [`m v=${v}`, 1, `invalid field value "${v}"`],
  ),
  ['m v=9223372036854775808i', 1, 'out of int64 range for key "v"'],
  ['m v=-9223372036854775809i', 1, 'out of int64 range'],
  ['m v=18446744073709551616u', 1, 'out of uint64 range for key "v"'],
  ['m v=1e400', 1, 'out of float64 range'],
  [`m v=${'9'.repeat(25)}i`, 1, 'out of int64 range'],
  [`m v=${'9'.repeat(25)}u`, 1, 'out of uint64 range'],
  ['m v=-1e309', 1, 'out of float64 range'],
  // timestamps
  ['m v=1 12a', 1, 'invalid timestamp "12a"'],
  ['m v=1 1.5', 1, 'invalid timestamp "1.5"'],
  ['m v=1 "123"', 1, 'invalid timestamp "\\"123\\""'],
  ['m v=1 +5', 1, 'invalid timestamp "+5"'],
  ['m v=1 -', 1, 'invalid timestamp "-"'],
  ['m v=1 1e9', 1, 'invalid timestamp "1e9"'],
  ['m v=1,w=2 x=3', 1, 'invalid timestamp "x=3"'],
  ['m v=1 123 456', 1, 'unexpected text after timestamp: "456"'],
  ['m v=1 123 # note', 1, 'unexpected text after timestamp: "# note"'],
  ['m v=1 9223372036854775807', 1, 'out of range'],
  ['m v=1 -9223372036854775807', 1, 'out of range'],
  ['m v=1 99999999999999999999', 1, 'out of int64 range'],
  // control characters in names (InfluxData's spec forbids them; they are almost always corruption)
  ['m,t=a\tb v=1', 1, 'invalid control character U+0009 in tag value'],
  ['m\u0000 v=1', 1, 'invalid control character U+0000 in measurement'],
  ['m v\u0001=1', 1, 'invalid control character U+0001 in field key'],
  ['m,k\u007f=a v=1', 1, 'invalid control character U+007F in tag key'],
  ['m\rx v=1', 1, 'invalid control character U+000D in measurement'],
  // keys InfluxDB refuses
  ['m time=1', 1, '"time" is reserved and cannot be a field key'],
  ['m,time=x v=1', 1, '"time" is reserved and cannot be a tag key'],
  ['m,_field=x v=1', 1, '"_field" is reserved'],
  ['m _measurement=1', 1, '"_measurement" is reserved'],
  // a string may not continue onto the next line: the error is on the line where it opens
  ['m v=1\nm s="first\nsecond" 1\n', 2, 'a string cannot span lines'],
];

test('bad lines report line number and reason', () => {
  for (const [body, line, reason] of BAD) {
    const err = failure(body);
    assert.equal(err.line, line, `line for ${JSON.stringify(body)}`);
    assert.ok(err.reason.includes(reason), `reason for ${JSON.stringify(body)}: got ${JSON.stringify(err.reason)}, want ${JSON.stringify(reason)}`);
    assert.equal(err.message, `line ${line}: ${err.reason}`);
  }
});

test('a bad 3rd line of a multi-line body is reported as line 3', () => {
  const err = failure('cpu,host=a v=1 1\ncpu,host=b v=2 2\ncpu,host=c v=12x 3\ncpu,host=d v=4 4\n');
  assert.equal(err.line, 3);
  assert.equal(err.text, 'cpu,host=c v=12x 3');
  assert.equal(err.reason, 'invalid field value "12x" for key "v"');
  assert.equal(err.message, 'line 3: invalid field value "12x" for key "v"');
  assert.equal(err.name, 'LineProtocolError');
  assert.ok(err instanceof Error);
});

test('line numbers count blank, comment and CRLF lines; text excludes the CR', () => {
  const err = failure('# c\r\n\r\nm v=1\r\nm v=oops\r\nm v=2\r\n');
  assert.equal(err.line, 4);
  assert.equal(err.text, 'm v=oops');
});

test('the first bad line wins', () => {
  assert.equal(failure('m v=1\nm v=\nm v=x\n').line, 2);
});

test('multi-megabyte digit runs are rejected without parsing them', () => {
  const digits = '9'.repeat(5_000_000);
  const t0 = performance.now();
  assert.match(failure(`m v=${digits}i`).reason, /out of int64 range/);
  assert.match(failure(`m v=1 ${digits}`).reason, /out of int64 range/);
  assert.ok(performance.now() - t0 < 1000);
});

test('error text is truncated to 200 characters', () => {
  const err = failure(`m v=1\nm,t=${'x'.repeat(500)} v=bad`);
  assert.equal(err.line, 2);
  assert.equal(err.text.length, 200);
  assert.ok(err.text.startsWith('m,t=xxx'));
  assert.ok(err.reason.length < 120, 'reasons quote long tokens in shortened form');
});

test('precision applies to the timestamp range check', () => {
  assert.equal(parseLineProtocol('m v=1 9223372036', { defaultTimeNs: 0n, precision: 's' })[0]?.timeNs, 9223372036000000000n);
  const err = failure('m v=1 9223372037', { precision: 's' });
  assert.match(err.reason, /out of range/);
  assert.match(failure('m v=1 -9223372036854776', { precision: 'ms' }).reason, /out of range/);
});

test('maxLines: names the first point line past the limit', () => {
  const body = 'm v=1\n# comment\n\nm v=2\nm v=3\nm v=4\n';
  const err = failure(body, { maxLines: 2 });
  assert.equal(err.line, 5);
  assert.equal(err.reason, 'too many lines (limit 2)');
  assert.equal(err.text, 'm v=3');
  assert.equal(failure('m v=1', { maxLines: 0 }).line, 1);
  // An earlier bad line is reported before the limit is reached.
  assert.equal(failure('m v=x\nm v=2\nm v=3', { maxLines: 1 }).reason, 'invalid field value "x" for key "v"');
});
