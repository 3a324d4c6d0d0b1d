import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseLineProtocol } from '@edgeworker/line-protocol';
import { FUNCTIONS } from '@edgeworker/pops';
import { FIELD, MEASUREMENT, TAG } from '@edgeworker/schema';
import { startTestServer, waitFor } from './testing.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = 'apps/generator/src/bin/generator.ts';

interface Run {
  code: Promise<number | null>;
  stdout: () => string;
  stderr: () => string;
  kill(signal: NodeJS.Signals): void;
}

function runCli(args: string[], t: { after(fn: () => void): void }): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, INFLUX_TOKEN: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { code, stdout: () => out, stderr: () => err, kill: (s) => child.kill(s) };
}

test('--once writes one batch of valid line protocol (2 POPs x 5 functions) and exits 0', async (t) => {
  const server = await startTestServer((_req, res) => res.writeHead(204).end());
  t.after(() => server.close());
  const run = runCli(['--target', `${server.url}/write`, '--once', '--seed', '1', '--pops', 'FRA,AMS'], t);
  assert.equal(await run.code, 0, run.stdout() + run.stderr());
  assert.equal(server.requests.length, 1);
  const req = server.requests[0]!;
  assert.equal(req.url, '/write?db=edgeworker&precision=ns');
  const lines = req.body.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 2 * 5);
  const points = parseLineProtocol(req.body, { defaultTimeNs: 0n });
  assert.equal(points.length, 10);
  const series = new Set(points.map((p) => `${p.tags[TAG.popCode]}/${p.tags[TAG.functionName]}`));
  for (const pop of ['FRA', 'AMS']) for (const f of FUNCTIONS) assert.ok(series.has(`${pop}/${f.name}`), `${pop}/${f.name}`);
  for (const p of points) {
    assert.equal(p.measurement, MEASUREMENT);
    assert.deepEqual(Object.keys(p.fields).sort(), [FIELD.coldStartTimeMs, FIELD.latitude, FIELD.longitude].sort());
    const v = p.fields[FIELD.coldStartTimeMs];
    assert.ok(v?.type === 'float' && v.value > 0);
    assert.ok(Math.abs(Number(p.timeNs / 1_000_000n) - Date.now()) < 60_000, 'timestamp is now, in ns');
  }
  assert.match(run.stdout(), /"seed":1/);
});

test('--once exits 1 when the target refuses the data', async (t) => {
  const server = await startTestServer((_req, res) => res.writeHead(401).end('unauthorized'));
  t.after(() => server.close());
  const run = runCli(['--target', `${server.url}/write`, '--once', '--pops', 'FRA', '--log-level', 'error'], t);
  assert.equal(await run.code, 1);
  assert.match(run.stdout(), /HTTP 401: unauthorized/);
});

test('a bad flag value exits 2 with one line naming the flag', async (t) => {
  for (const [args, re] of [
    [['--target', 'http://127.0.0.1:9/write', '--interval', 'soon'], /--interval must be an integer/],
    [['--target', 'http://127.0.0.1:9/write', '--inject', 'pops=FRA;factor=-1'], /--inject: .*factor must be a number > 0/],
    [['--target', 'http://127.0.0.1:9/write', '--frobnicate'], /--frobnicate/],
  ] as const) {
    const run = runCli([...args], t);
    assert.equal(await run.code, 2);
    assert.match(run.stderr(), re);
    assert.equal(run.stderr().trim().split('\n').length, 1, 'one line');
    assert.equal(run.stdout(), '');
  }
});

test('continuous mode serves /health and on SIGTERM stops, flushes and exits 0', async (t) => {
  const server = await startTestServer((_req, res) => res.writeHead(204).end());
  t.after(() => server.close());
  const run = runCli(
    ['--target', server.url, '--bucket', 'edge', '--interval', '200', '--pops', 'NRT', '--health-port', '0', '--gzip'],
    t,
  );
  await waitFor(() => /health endpoint listening/.test(run.stdout()) && server.requests.length >= 2, 8000, 'ticks and health');
  assert.equal(server.requests[0]!.url, '/api/v2/write?bucket=edge&precision=ns');
  assert.equal(server.requests[0]!.headers['content-encoding'], 'gzip');
  const url = /"url":"(http:\/\/127\.0\.0\.1:\d+\/health)"/.exec(run.stdout())![1]!;
  const health = (await (await fetch(url)).json()) as Record<string, unknown>;
  assert.equal(health.status, 'ok');
  assert.ok((health.sentPoints as number) >= 5);
  run.kill('SIGTERM');
  assert.equal(await run.code, 0);
  assert.match(run.stdout(), /stopping/);
  assert.match(run.stdout(), /every sample was written/);
});

test('--backfill 10m writes ten minutes of history first, then continues live, and stops cleanly', async (t) => {
  // The target is slow (50 ms a request): the backfill goes at the pace it accepts.
  const server = await startTestServer((_req, res) => void setTimeout(() => res.writeHead(204).end(), 50));
  t.after(() => server.close());
  const started = Date.now();
  const run = runCli(['--target', `${server.url}/write`, '--backfill', '10m', '--interval', '1000', '--pops', 'FRA,AMS', '--seed', '3'], t);
  const times = () => server.requests.flatMap((r) => parseLineProtocol(r.body, { defaultTimeNs: 0n }).map((p) => Number(p.timeNs / 1_000_000n)));
  await waitFor(() => /backfill finished/.test(run.stdout()) && times().some((ms) => ms >= started + 1000), 20_000, 'the backfill and a live batch');
  run.kill('SIGTERM');
  assert.equal(await run.code, 0, run.stdout());
  const all = times();
  const history = all.filter((ms) => ms < started);
  // About 600 ticks of 1 s before the start (less the CLI's own start-up), 10 series each.
  assert.ok(history.length >= 585 * 10 && history.length <= 601 * 10, `history points: ${history.length}`);
  assert.ok(Math.min(...all) >= started - 600_000 && Math.min(...all) <= started - 585_000, 'starts ten minutes back');
  const points = server.requests.flatMap((r) => parseLineProtocol(r.body, { defaultTimeNs: 0n }));
  const keys = points.map((p) => `${p.tags[TAG.popCode]}/${p.tags[TAG.functionName]}/${p.timeNs}`);
  assert.equal(new Set(keys).size, keys.length, 'every (series, time) once');
  // No gap between history and live: consecutive ticks at most one interval (plus scheduling slack) apart.
  const ticks = [...new Set(all)].sort((a, b) => a - b);
  for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i]! - ticks[i - 1]! <= 1500, `gap ${ticks[i - 1]} → ${ticks[i]}`);
  assert.match(run.stdout(), /every sample was written/);
});

test('--backfill takes a duration', async (t) => {
  const run = runCli(['--target', 'http://127.0.0.1:9/write', '--backfill', 'a week'], t);
  assert.equal(await run.code, 2);
  assert.match(run.stderr(), /--backfill must be a duration like 10m, 24h or 7d/);
});
