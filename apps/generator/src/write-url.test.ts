import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl, resolveWriteTarget } from './write-url.ts';

const href = (o: Parameters<typeof resolveWriteTarget>[0]) => resolveWriteTarget(o).url.toString();

test('base URL: 1.x /write?db= (default edgeworker) or 2.x /api/v2/write?bucket=&org=', () => {
  assert.equal(href({ url: 'http://localhost:8086' }), 'http://localhost:8086/write?db=edgeworker&precision=ns');
  assert.equal(href({ url: 'http://localhost:8086/', db: 'metrics' }), 'http://localhost:8086/write?db=metrics&precision=ns');
  assert.equal(
    href({ url: 'https://influx.example.com', bucket: 'edge', org: 'sre', precision: 'ms' }),
    'https://influx.example.com/api/v2/write?bucket=edge&org=sre&precision=ms',
  );
  assert.equal(href({ url: 'http://proxy/influx/', bucket: 'b' }), 'http://proxy/influx/api/v2/write?bucket=b&precision=ns');
});

test('full write URL: path and query kept, only missing parts filled in', () => {
  assert.equal(href({ url: 'http://h:8080/write?db=x&rp=week' }), 'http://h:8080/write?db=x&rp=week&precision=ns');
  assert.equal(href({ url: 'http://h/write', db: 'y' }), 'http://h/write?db=y&precision=ns');
  assert.equal(href({ url: 'http://h/api/v2/write?bucket=b&org=o' }), 'http://h/api/v2/write?bucket=b&org=o&precision=ns');
  assert.equal(href({ url: 'http://h/api/v2/write', bucket: 'b', org: 'o' }), 'http://h/api/v2/write?bucket=b&org=o&precision=ns');
  assert.equal(href({ url: 'http://h/api/v2/write?bucket=keep', bucket: 'other' }), 'http://h/api/v2/write?bucket=keep&precision=ns');
});

test('precision in the URL decides the encoding; conflicts and junk are errors', () => {
  assert.equal(resolveWriteTarget({ url: 'http://h/write?db=x&precision=ms' }).precision, 'ms');
  assert.equal(resolveWriteTarget({ url: 'http://h/write?db=x&precision=u' }).precision, 'us');
  assert.equal(resolveWriteTarget({ url: 'http://h/write?db=x&precision=s', precision: 's' }).precision, 's');
  assert.throws(() => resolveWriteTarget({ url: 'http://h/write?db=x&precision=ms', precision: 'ns' }), /precision=ms/);
  assert.throws(() => resolveWriteTarget({ url: 'http://h/write?db=x&precision=h' }), /expected ns, us, ms or s/);
});

test('bad targets say what is expected', () => {
  assert.throws(() => resolveWriteTarget({ url: 'localhost:8086' }), /http:\/\/ or https:\/\//);
  assert.throws(() => resolveWriteTarget({ url: 'not a url' }), /is not a URL/);
  assert.throws(() => resolveWriteTarget({ url: 'http://h/api/v2/write' }), /without bucket=/);
});

test('credentials in the URL move out of it (fetch refuses them); secrets are redacted in logs', () => {
  const t = resolveWriteTarget({ url: 'http://admin:s%40cret@h:8086' });
  assert.deepEqual(t.urlCredentials, { username: 'admin', password: 's@cret' });
  assert.equal(t.url.toString(), 'http://h:8086/write?db=edgeworker&precision=ns');
  assert.equal(redactUrl(new URL('http://h/write?db=x&u=me&p=secret')), 'http://h/write?db=x&u=***&p=***');
});
