import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineProtocolError, parseLineProtocol, parseLineProtocolAsync, type FieldValue, type ParsedPoint, type Precision } from './index.ts';

const DEF = 42n;

function one(line: string, precision?: Precision): ParsedPoint {
  const pts = parseLineProtocol(line, { defaultTimeNs: DEF, ...(precision ? { precision } : {}) });
  assert.equal(pts.length, 1, `expected one point from ${JSON.stringify(line)}`);
  return pts[0] as ParsedPoint;
}

const f = (value: number): FieldValue => ({ type: 'float', value });
const i = (value: bigint): FieldValue => ({ type: 'integer', value });
const u = (value: bigint): FieldValue => ({ type: 'unsigned', value });
const s = (value: string): FieldValue => ({ type: 'string', value });
const b = (value: boolean): FieldValue => ({ type: 'boolean', value });

test('v2 reference: syntax example', () => {
  assert.deepEqual(one('myMeasurement,tag1=value1,tag2=value2 fieldKey="fieldValue" 1556813561098000000'), {
    measurement: 'myMeasurement',
    tags: { tag1: 'value1', tag2: 'value2' },
    fields: { fieldKey: s('fieldValue') },
    timeNs: 1556813561098000000n,
    line: 1,
  });
});

test('v2 reference: data type examples', () => {
  const cases: Array<[string, FieldValue]> = [
    ['myMeasurement fieldKey=1.0', f(1)],
    ['myMeasurement fieldKey=1', f(1)],
    ['myMeasurement fieldKey=-1.234456e+78', f(-1.234456e78)],
    ['myMeasurement fieldKey=1i', i(1n)],
    ['myMeasurement fieldKey=12485903i', i(12485903n)],
    ['myMeasurement fieldKey=-12485903i', i(-12485903n)],
    ['myMeasurement fieldKey=-9223372036854775808i', i(-9223372036854775808n)],
    ['myMeasurement fieldKey=9223372036854775807i', i(9223372036854775807n)],
    ['myMeasurement fieldKey=1u', u(1n)],
    ['myMeasurement fieldKey=12485903u', u(12485903n)],
    ['myMeasurement fieldKey=0u', u(0n)],
    ['myMeasurement fieldKey=18446744073709551615u', u(18446744073709551615n)],
    ['myMeasurement fieldKey="this is a string"', s('this is a string')],
    ['measurementName fieldKey="field string value" 1556813561098000000', s('field string value')],
    ['myMeasurement fieldKey="true"', s('true')],
  ];
  for (const [line, want] of cases) assert.deepEqual(one(line).fields, { fieldKey: want }, line);
});

test('integers: leading zeros, negative zero', () => {
  assert.deepEqual(one(`m v=${'0'.repeat(30)}1i,w=-0i,x=${'0'.repeat(25)}42u`).fields, { v: i(1n), w: i(0n), x: u(42n) });
  assert.equal(one(`m v=1 ${'0'.repeat(30)}7`).timeNs, 7n);
});

test('booleans: every accepted spelling', () => {
  for (const w of ['t', 'T', 'true', 'True', 'TRUE']) assert.deepEqual(one(`m v=${w}`).fields.v, b(true), w);
  for (const w of ['f', 'F', 'false', 'False', 'FALSE']) assert.deepEqual(one(`m v=${w}`).fields.v, b(false), w);
});

test('floats: grammar forms from the spec and v1 reference', () => {
  const cases: Array<[string, number]> = [
    ['1.e+78', 1e78], ['1.E+78', 1e78], ['1E5', 1e5], ['1e-5', 1e-5], ['.5', 0.5], ['-.5', -0.5],
    ['1.', 1], ['-0', -0], ['007', 7], ['1.5e3', 1500], ['-1.5e-3', -0.0015], ['1e-400', 0],
  ];
  for (const [tok, want] of cases) assert.deepEqual(one(`m v=${tok}`).fields.v, f(want), tok);
});

test('v2 reference: special characters', () => {
  assert.equal(one(String.raw`my\ Measurement fieldKey="string value"`).measurement, 'my Measurement');
  assert.deepEqual(one(String.raw`myMeasurement fieldKey="\"string\" within a string"`).fields.fieldKey, s('"string" within a string'));
  assert.deepEqual(one(String.raw`myMeasurement,tag\ Key1=tag\ Value1,tag\ Key2=tag\ Value2 fieldKey=100`).tags, {
    'tag Key1': 'tag Value1',
    'tag Key2': 'tag Value2',
  });
  const emoji = one('myMeasurement,tagKey=🍭 fieldKey="Launch 🚀" 1556813561098000000');
  assert.deepEqual(emoji.tags, { tagKey: '🍭' });
  assert.deepEqual(emoji.fields.fieldKey, s('Launch 🚀'));
});

test('v2 reference: comments', () => {
  const pts = parseLineProtocol('# This is a comment\nmyMeasurement fieldKey="string value" 1556813561098000000', { defaultTimeNs: DEF });
  assert.equal(pts.length, 1);
  assert.equal(pts[0]?.line, 2);
});

test('v1 reference: escaping in each position', () => {
  const ts = 1465839830100400200n;
  const a = one(String.raw`weather,location=us\,midwest temperature=82 1465839830100400200`);
  assert.deepEqual(a.tags, { location: 'us,midwest' });
  assert.equal(a.timeNs, ts);
  assert.deepEqual(Object.keys(one(String.raw`weather,location=us-midwest temp\=rature=82 1465839830100400200`).fields), ['temp=rature']);
  assert.deepEqual(one(String.raw`weather,location\ place=us-midwest temperature=82 1465839830100400200`).tags, { 'location place': 'us-midwest' });
  assert.equal(one(String.raw`wea\,ther,location=us-midwest temperature=82 1465839830100400200`).measurement, 'wea,ther');
  assert.equal(one(String.raw`wea\ ther,location=us-midwest temperature=82 1465839830100400200`).measurement, 'wea ther');
  assert.deepEqual(one(String.raw`weather,location=us-midwest temperature="too\"hot\"" 1465839830100400200`).fields.temperature, s('too"hot"'));
});

test('v1 reference: backslashes in string field values', () => {
  const cases: Array<[string, string]> = [
    [String.raw`too hot/cold`, 'too hot/cold'],
    [String.raw`too hot\cold`, String.raw`too hot\cold`],
    [String.raw`too hot\\cold`, String.raw`too hot\cold`],
    [String.raw`too hot\\\cold`, String.raw`too hot\\cold`],
    [String.raw`too hot\\\\cold`, String.raw`too hot\\cold`],
    [String.raw`too hot\\\\\cold`, String.raw`too hot\\\cold`],
    [String.raw`ends with \\`, 'ends with \\'],
    [String.raw`\"quoted\" \\\"`, String.raw`"quoted" \"`],
  ];
  for (const [raw, want] of cases) {
    assert.deepEqual(one(`weather,location=us-midwest temperature_str="${raw}" 1465839830100400201`).fields.temperature_str, s(want), raw);
  }
});

test('v1 reference: special characters and quotes kept as part of names', () => {
  const p = one(String.raw`"measurement\ with\ quo⚡️es\ and\ emoji",tag\ key\ with\ sp🚀ces=tag\,value\,with"commas" field_k\ey="string field value, only \" need be esc🍭ped"`);
  assert.equal(p.measurement, '"measurement with quo⚡️es and emoji"');
  assert.deepEqual(p.tags, { 'tag key with sp🚀ces': 'tag,value,with"commas"' });
  assert.deepEqual(p.fields, { 'field_k\\ey': s('string field value, only " need be esc🍭ped') });
  assert.equal(one(`'mymeas' value=200`).measurement, `'mymeas'`);
});

test('v1 reference: data type examples', () => {
  assert.deepEqual(one('mymeas value=-1.234456e+78').fields.value, f(-1.234456e78));
  assert.deepEqual(one('mymeas value=1i').fields.value, i(1n));
  assert.deepEqual(one('mymeas value="stringing along"').fields.value, s('stringing along'));
  assert.deepEqual(one('mymeas value=true').fields.value, b(true));
  assert.equal(one('mymeas value=3 1465934559000000000').timeNs, 1465934559000000000n);
  assert.deepEqual(one('weather,location=us-midwest temperature=82,humidity=71 1465839830100400200').fields, { temperature: f(82), humidity: f(71) });
  assert.deepEqual(
    one('payment,device=mobile,product=Notepad,method=credit billed=33,licenses=3i 1434067467100293230'),
    { measurement: 'payment', tags: { device: 'mobile', product: 'Notepad', method: 'credit' }, fields: { billed: f(33), licenses: i(3n) }, timeNs: 1434067467100293230n, line: 1 },
  );
});

test('escapes that are not escapes stay literal', () => {
  // `=` needs no escape in a measurement, and `\=` there is a literal backslash + `=`.
  assert.equal(one('a=b v=1').measurement, 'a=b');
  assert.equal(one(String.raw`a\=b v=1`).measurement, String.raw`a\=b`);
  assert.equal(one(String.raw`C:\temp v=1`).measurement, String.raw`C:\temp`);
  assert.deepEqual(one(String.raw`m,path=C:\temp\x v=1`).tags, { path: String.raw`C:\temp\x` });
  // `\\` is not an escape outside strings: the first backslash is literal, the second escapes.
  assert.deepEqual(one(String.raw`m,k=a\\,b v=1`).tags, { k: String.raw`a\,b` });
  assert.deepEqual(one(String.raw`m,k=a\\ b v=1`).tags, { k: String.raw`a\ b` });
  assert.deepEqual(Object.keys(one(String.raw`m a\\=b=1`).fields), [String.raw`a\=b`]);
  // Quotes and `#` are ordinary characters in names; strings may hold commas, `=` and spaces.
  assert.deepEqual(one(`m,q="x",h=#1 "k"=1`).tags, { q: '"x"', h: '#1' });
  assert.deepEqual(one('m s="a, b=c d",t=1i').fields, { s: s('a, b=c d'), t: i(1n) });
  assert.deepEqual(one('m s=""').fields.s, s(''));
  assert.deepEqual(one('m s="tab\there"').fields.s, s('tab\there'));
});

test('timestamps: precisions, negatives, bounds, default', () => {
  assert.equal(one('m v=1').timeNs, DEF);
  assert.equal(one('m v=1 1556813561098000000', 'ns').timeNs, 1556813561098000000n);
  assert.equal(one('m v=1 1556813561098000', 'us').timeNs, 1556813561098000000n);
  assert.equal(one('m v=1 1556813561098', 'ms').timeNs, 1556813561098000000n);
  assert.equal(one('m v=1 1556813561', 's').timeNs, 1556813561000000000n);
  assert.equal(one('m v=1 -1', 's').timeNs, -1_000_000_000n);
  assert.equal(one('m v=1 0').timeNs, 0n);
  assert.equal(one('m v=1 -9223372036854775806').timeNs, -9223372036854775806n);
  assert.equal(one('m v=1 9223372036854775806').timeNs, 9223372036854775806n);
  assert.equal(one('m v=1 9223372036', 's').timeNs, 9223372036000000000n);
});

test('body handling: CRLF, blank and comment lines, surrounding blanks, line numbers', () => {
  const body = '\r\n# header\r\n  # indented comment\r\nm,t=a v=1 1\r\n\t\r\n   m v=2   \r\nm v=3 3\t\n\nm v=4';
  const pts = parseLineProtocol(body, { defaultTimeNs: DEF });
  assert.deepEqual(pts.map((p) => [p.line, p.fields.v, p.timeNs]), [
    [4, f(1), 1n],
    [6, f(2), DEF],
    [7, f(3), 3n],
    [9, f(4), DEF],
  ]);
  assert.deepEqual(parseLineProtocol('', { defaultTimeNs: DEF }), []);
  assert.deepEqual(parseLineProtocol('\n\n# only comments\n', { defaultTimeNs: DEF }), []);
});

test('a leading UTF-8 byte order mark is skipped', () => {
  assert.equal(one('\uFEFFcpu v=1').measurement, 'cpu');
});

test('runs of spaces between sections are accepted, as InfluxDB does', () => {
  const p = one('m,t=a   v=1,w=2i    123');
  assert.deepEqual(p.tags, { t: 'a' });
  assert.deepEqual(p.fields, { v: f(1), w: i(2n) });
  assert.equal(p.timeNs, 123n);
  assert.deepEqual(one('m  v="a  b"').fields, { v: s('a  b') });
});

test('duplicate field key: last value wins', () => {
  assert.deepEqual(one('m v=1,w=2i,v="x"').fields, { v: s('x'), w: i(2n) });
});

test('"__proto__" and other Object.prototype names are kept as ordinary keys', () => {
  const p = one('m,__proto__=a,constructor=b __proto__=1i,toString=2i');
  assert.equal(Object.getPrototypeOf(p.tags), Object.prototype);
  assert.deepEqual(Object.entries(p.tags), [['__proto__', 'a'], ['constructor', 'b']]);
  assert.deepEqual(Object.entries(p.fields), [['__proto__', i(1n)], ['toString', i(2n)]]);
});

test('maxLines counts point lines only', () => {
  const body = '# c\nm v=1\n\nm v=2\n# trailing\n';
  assert.equal(parseLineProtocol(body, { defaultTimeNs: DEF, maxLines: 2 }).length, 2);
});

test('rejects a bad precision option', () => {
  assert.throws(() => parseLineProtocol('m v=1', { defaultTimeNs: DEF, precision: 'h' as Precision }), TypeError);
});

test('a series key seen before reads back the same, escapes and errors included', () => {
  const body = String.raw`m\ x,k=a\\ b,q=c\,d\=e v=1 1` + '\n' + String.raw`m\ x,k=a\\ b,q=c\,d\=e v=2 2`;
  for (let round = 0; round < 2; round++) {
    const [a, b] = parseLineProtocol(body, { defaultTimeNs: DEF });
    assert.equal(a!.measurement, 'm x');
    assert.deepEqual(a!.tags, { k: String.raw`a\ b`, q: 'c,d=e' });
    assert.equal(a!.tags, b!.tags, 'points of one series share their tags');
    assert.ok(Object.isFrozen(a!.tags));
  }
  // A cached key does not excuse the rest of the line.
  assert.throws(() => parseLineProtocol('m,t=a v=1\nm,t=a', { defaultTimeNs: DEF }), /line 2: missing fields/);
  assert.throws(() => parseLineProtocol('m,t=a v=1 1\nm,t=a v=1 1 2', { defaultTimeNs: DEF }), /line 2: unexpected text after timestamp/);
  // The same text followed by more tags is a different key.
  assert.deepEqual(parseLineProtocol('m,t=a v=1\nm,t=a,u=b v=1', { defaultTimeNs: DEF })[1]!.tags, { t: 'a', u: 'b' });
});

test('field keys and timestamps repeated from the line before read the same as new ones', () => {
  const pts = parseLineProtocol('m a=1,b=2 5\nm a=3,bb=4 5\nm a\\ =5,b=6 55\nm ab=7 5', { defaultTimeNs: DEF });
  assert.deepEqual(pts.map((p) => [Object.keys(p.fields), p.timeNs]), [
    [['a', 'b'], 5n], [['a', 'bb'], 5n], [['a ', 'b'], 55n], [['ab'], 5n],
  ]);
  assert.throws(() => parseLineProtocol('m a=1 5\nm time=1 5', { defaultTimeNs: DEF }), /line 2: "time" is reserved/);
});

test('decimal field values read exactly as Number() reads them', () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const tokens = ['0.1', '0.3', '-0.0', '123456789012345', '1234567890123456', '9007199254740993', '0.000000000000001', '99999999999999.9', '.1', '1.'];
  for (let k = 0; k < 2000; k++) {
    const int = String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 12)));
    const frac = String(Math.floor(rnd() * 10 ** Math.floor(rnd() * 10))).padStart(Math.floor(rnd() * 8), '0');
    tokens.push(`${rnd() < 0.3 ? '-' : ''}${int}.${frac}`);
  }
  const pts = parseLineProtocol(tokens.map((t) => `m v=${t}`).join('\n'), { defaultTimeNs: DEF });
  pts.forEach((p, k) => assert.ok(Object.is((p.fields.v as { value: number }).value, Number(tokens[k])), tokens[k]));
});

test('a body given as UTF-8 bytes reads as its text does, errors included', () => {
  const body = '\uFEFFm\\ é,city=São\\ Paulo,k=🍭 s="naïve \\"q\\"",v=1.5 1\nm\\ é,city=São\\ Paulo,k=🍭 s="Zürich",v=2 2\nascii,t=a v=1 3';
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(parseLineProtocol(Buffer.from(body), { defaultTimeNs: DEF }), parseLineProtocol(body, { defaultTimeNs: DEF }));
  }
  const bad = 'm,city=Zürich v=1 1\nm,city=Zürich v=ü 2';
  assert.throws(() => parseLineProtocol(Buffer.from(bad), { defaultTimeNs: DEF }), (err: LineProtocolError) => {
    assert.equal(err.line, 2);
    assert.equal(err.text, 'm,city=Zürich v=ü 2');
    assert.match(err.message, /invalid field value "ü"/);
    return true;
  });
  assert.throws(() => parseLineProtocol(Buffer.from([0x6d, 0x20, 0x76, 0x3d, 0xff]), { defaultTimeNs: DEF }), /not valid UTF-8/);
});

describe('long lines and turns of the event loop', () => {
  const opts = { defaultTimeNs: 0n, maxLineLength: 64 };
  it('refuses a line longer than maxLineLength, in bytes as received, naming it', () => {
    const ok = 'm,t=a v=1 1';
    const long = `m,t=${'é'.repeat(40)} v=1 1`; // 51 characters, 91 bytes
    assert.equal(parseLineProtocol(`${ok}\n${long}`, { defaultTimeNs: 0n, maxLineLength: 64 }).length, 2, 'as text: 51 characters');
    for (const body of [Buffer.from(`${ok}\n${long}`), `${ok}\n${ok} ${'x'.repeat(60)}`]) {
      assert.throws(() => parseLineProtocol(body, opts), (err: unknown) => {
        assert.ok(err instanceof LineProtocolError);
        assert.equal(err.line, 2);
        assert.match(err.reason, /^the line is \d+ bytes long; the limit is 64$/);
        return true;
      });
    }
    assert.equal(parseLineProtocol(Buffer.from(`${ok}\r\n${'m v=1'.padEnd(64, ' ')}\r\n`), opts).length, 2, 'exactly the limit, CR not counted');
  });

  it('parseLineProtocolAsync gives what parseLineProtocol gives, errors included, and yields to the event loop', async () => {
    const body = Array.from({ length: 3000 }, (_, i) => `m,host=h${i % 7} v=${i},s="x${i}" ${i}`).join('\n');
    assert.deepEqual(await parseLineProtocolAsync(Buffer.from(body), { defaultTimeNs: 0n }), parseLineProtocol(Buffer.from(body), { defaultTimeNs: 0n }));
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    await parseLineProtocolAsync(body, { defaultTimeNs: 0n, sliceMs: 0 });
    clearInterval(ticker);
    assert.ok(turns > 0, 'the event loop ran during the parse');
    await assert.rejects(parseLineProtocolAsync(`${body}\nm v=oops`, { defaultTimeNs: 0n }), (err: unknown) => err instanceof LineProtocolError && err.line === 3001);
  });
});
