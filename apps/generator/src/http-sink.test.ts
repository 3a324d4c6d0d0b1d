import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeBatch, parseLineProtocol } from '@edgeworker/line-protocol';
import { FIELD, MEASUREMENT, TAG } from '@edgeworker/schema';
import { PermanentWriteError, RetriableWriteError } from './errors.ts';
import { createInfluxHttpSink, sampleToPoint } from './http-sink.ts';
import { makeSamples, startTestServer } from './testing.ts';

test('POSTs the seed schema as line protocol to the built URL', async (t) => {
  const server = await startTestServer((_req, res) => res.writeHead(204).end());
  t.after(() => server.close());
  const send = createInfluxHttpSink({ url: server.url, db: 'edge' });
  const samples = makeSamples(3, 0);
  await send(samples);
  const [req] = server.requests;
  assert.ok(req);
  assert.equal(req.method, 'POST');
  assert.equal(req.url, '/write?db=edge&precision=ns');
  assert.match(String(req.headers['content-type']), /^text\/plain/);
  assert.equal(req.headers.authorization, undefined);
  const points = parseLineProtocol(req.body, { defaultTimeNs: 0n });
  assert.equal(points.length, 3);
  const p = points[0]!;
  assert.equal(p.measurement, MEASUREMENT);
  assert.deepEqual(p.tags, {
    [TAG.popCode]: 'FRA', [TAG.city]: 'Frankfurt', [TAG.country]: 'DE', [TAG.tier]: 'tier1', [TAG.functionName]: 'auth-check',
  });
  assert.deepEqual(p.fields[FIELD.coldStartTimeMs], { type: 'float', value: 10 });
  assert.deepEqual(p.fields[FIELD.latitude], { type: 'float', value: 50.03 });
  assert.deepEqual(p.fields[FIELD.longitude], { type: 'float', value: 8.56 });
  assert.equal(p.timeNs, samples[0]!.timeNs);
});

test('auth: token header; basic auth from options or from the URL', async (t) => {
  const server = await startTestServer((_req, res) => res.writeHead(204).end());
  t.after(() => server.close());
  await createInfluxHttpSink({ url: server.url, bucket: 'b', org: 'o', token: 'tok-123' })(makeSamples(1));
  await createInfluxHttpSink({ url: `${server.url}/write?db=d`, username: 'ann', password: 'p:w' })(makeSamples(1));
  const withCreds = server.url.replace('http://', 'http://bob:hunter2@');
  await createInfluxHttpSink({ url: withCreds })(makeSamples(1));
  const [a, b, c] = server.requests;
  assert.equal(a!.url, '/api/v2/write?bucket=b&org=o&precision=ns');
  assert.equal(a!.headers.authorization, 'Token tok-123');
  assert.equal(b!.headers.authorization, `Basic ${Buffer.from('ann:p:w').toString('base64')}`);
  assert.equal(c!.headers.authorization, `Basic ${Buffer.from('bob:hunter2').toString('base64')}`);
});

test('gzip: the body is gzipped and decodes to the same line protocol; precision from the URL is honoured', async (t) => {
  const server = await startTestServer((_req, res) => res.writeHead(204).end());
  t.after(() => server.close());
  const samples = makeSamples(50, 0);
  await createInfluxHttpSink({ url: `${server.url}/write?db=x&precision=ms`, gzip: true })(samples);
  const [req] = server.requests;
  assert.equal(req!.headers['content-encoding'], 'gzip');
  // startTestServer gunzipped the body; compare with an independent encoding.
  assert.equal(req!.body, encodeBatch(samples.map(sampleToPoint), 'ms'));
  assert.equal(parseLineProtocol(req!.body, { precision: 'ms', defaultTimeNs: 0n })[0]!.timeNs, samples[0]!.timeNs);
});

test('status mapping: 5xx/429/408 retriable with status and body excerpt; other 4xx permanent', async (t) => {
  const answers: Array<[number, string, Record<string, string>?]> = [
    [500, 'internal error: engine crashed'],
    [429, 'slow down', { 'retry-after': '2' }],
    [408, ''],
    [400, '{"code":"invalid","message":"unable to parse line 1"}'],
    [401, 'unauthorized access'],
    [404, 'database not found: "edge"'],
    [413, 'request too large'],
    [307, '', { location: 'http://elsewhere/write' }],
  ];
  let i = 0;
  const server = await startTestServer((_req, res) => {
    const [status, body, headers] = answers[i++]!;
    res.writeHead(status, headers ?? {}).end(body);
  });
  t.after(() => server.close());
  const send = createInfluxHttpSink({ url: server.url });
  const outcome = async () => {
    try {
      await send(makeSamples(1));
      return null;
    } catch (err) {
      return err as Error & { status?: number; retryAfterMs?: number };
    }
  };
  const e500 = await outcome();
  assert.ok(e500 instanceof RetriableWriteError);
  assert.equal(e500.status, 500);
  assert.match(e500.message, /HTTP 500: internal error: engine crashed/);
  const e429 = await outcome();
  assert.ok(e429 instanceof RetriableWriteError && e429.retryAfterMs === 2000);
  assert.ok((await outcome()) instanceof RetriableWriteError);
  for (const [status, text] of [[400, 'unable to parse line 1'], [401, 'unauthorized'], [404, 'database not found'], [413, 'too large']] as const) {
    const e = await outcome();
    assert.ok(e instanceof PermanentWriteError, `${status} is permanent`);
    assert.equal(e.status, status);
    assert.ok(e.message.includes(`HTTP ${status}`) && e.message.includes(text), e.message);
  }
  const e307 = await outcome();
  assert.ok(e307 instanceof PermanentWriteError);
  assert.match(e307.message, /redirects to http:\/\/elsewhere\/write/);
  assert.equal(server.requests.length, answers.length, 'redirect not followed');
});

test('timeout really aborts the request (the server sees the connection close)', async (t) => {
  let closedByClient = false;
  const server = await startTestServer((_req, _res, raw) => {
    raw.socket.on('close', () => (closedByClient = true)); // never answers
  });
  t.after(() => server.close());
  const send = createInfluxHttpSink({ url: server.url, timeoutMs: 150 });
  await assert.rejects(send(makeSamples(1)), (err: Error) => err instanceof RetriableWriteError && /timed out after 150 ms/.test(err.message));
  const until = Date.now() + 2000;
  while (!closedByClient && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.ok(closedByClient, 'socket closed by the aborting client');
});

test('network errors are retriable and say why; unencodable data is permanent', async () => {
  const server = await startTestServer((_req, res) => res.writeHead(204).end());
  const deadUrl = server.url;
  await server.close(); // nothing listens there any more
  const send = createInfluxHttpSink({ url: deadUrl });
  await assert.rejects(send(makeSamples(1)), (err: Error) => err instanceof RetriableWriteError && /ECONNREFUSED/.test(err.message));
  const bad = makeSamples(1);
  bad[0]!.coldStartTimeMs = Number.NaN;
  await assert.rejects(send(bad), PermanentWriteError);
  await send([]); // nothing to send: no request, no error
});
