/**
 * Ingest throughput of the server's `/write` into the embedded store beside InfluxDB 1.x
 * (`influxd`, started here when installed), for the two body shapes of issue 11:
 *   - 5,000-line uncompressed bodies, 4 requests in flight;
 *   - 20,000-point gzip bodies, one at a time.
 * Both targets get the same bodies, one after the other in the same run, each in its own
 * process (the server as `npm run server` runs it), so the ratio is comparable on a noisy
 * machine. Every load is bounded in bodies and in time. Goal: >= 1.5x InfluxDB.
 *
 * A third row, without a goal, sends bodies the store has already seen (each point
 * replaced, last write wins): the slow path of the write rule.
 *
 * BENCH_SERVER_NODE_ARGS adds node flags to the server process (e.g. `--cpu-prof`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { encodeBatch } from '@edgeworker/line-protocol';
import { FUNCTIONS, POPS } from '@edgeworker/pops';
import { createGenerator, createLatencyModel, sampleToPoint } from '@edgeworker/generator';
import type { ColdStartSample } from '@edgeworker/schema';
import { freePort } from '../apps/server/src/testing/free-port.ts';
import { startInfluxd } from '../apps/server/src/testing/influxd.ts';
import { runAlone, type BenchModule, type BenchRow } from './lib.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const GOAL = 1.5;
/** Per target and shape: stop sending new bodies after this long. */
const TIME_BOUND_MS = Number(process.env.BENCH_INGEST_MS ?? 4000);

interface Shape {
  name: string;
  linesPerBody: number;
  bodies: number;
  inFlight: number;
  gzip: boolean;
}

const SHAPES: Shape[] = [
  { name: '5,000-line bodies, 4 in flight', linesPerBody: 5_000, bodies: 160, inFlight: 4, gzip: false },
  { name: '20,000-point gzip bodies', linesPerBody: 20_000, bodies: 40, inFlight: 1, gzip: true },
];

interface Target {
  name: string;
  writeUrl: string;
  stop(): Promise<void>;
}

/** Bodies of generator ticks (423 POPs x 5 functions every 10 s), oldest first, ending near now. */
function makeBodies(shape: Shape, endMs: number): Buffer[] {
  const total = shape.linesPerBody * shape.bodies;
  const perTick = POPS.length * FUNCTIONS.length;
  const ticks = Math.ceil(total / perTick);
  let t = endMs - ticks * 10_000;
  const gen = createGenerator({ pops: POPS, functions: FUNCTIONS, intervalMs: 10_000, model: createLatencyModel({ seed: 11 }), now: () => t, onBatch: () => {} });
  const samples: ColdStartSample[] = [];
  for (let i = 0; i < ticks; i++) {
    samples.push(...gen.tick());
    t += 10_000;
  }
  const bodies: Buffer[] = [];
  for (let i = 0; i < shape.bodies; i++) {
    const text = encodeBatch(samples.slice(i * shape.linesPerBody, (i + 1) * shape.linesPerBody).map(sampleToPoint));
    bodies.push(shape.gzip ? gzipSync(text) : Buffer.from(text));
  }
  return bodies;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

function post(url: string, body: Buffer, gzip: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: { 'content-type': 'text/plain', 'content-length': body.length, ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 204 ? resolve(204) : reject(new Error(`${url}: ${res.statusCode} ${Buffer.concat(chunks).toString().slice(0, 300)}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Points/s with `inFlight` requests outstanding, until the bodies run out or the time bound passes. */
async function load(target: Target, shape: Shape, bodies: Buffer[]): Promise<number> {
  let next = 0;
  let points = 0;
  const t0 = performance.now();
  const deadline = t0 + TIME_BOUND_MS;
  async function worker() {
    while (next < bodies.length && performance.now() < deadline) {
      const body = bodies[next++]!;
      await post(target.writeUrl, body, shape.gzip);
      points += shape.linesPerBody;
    }
  }
  await Promise.all(Array.from({ length: shape.inFlight }, worker));
  return points / ((performance.now() - t0) / 1000);
}

async function startServer(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ewm-bench-ingest-'));
  const port = await freePort();
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...extra, '--import', 'tsx', 'apps/server/src/bin/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'warn', DETECTOR: 'off', WEB_DIST_DIR: join(dataDir, 'none') },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error('the server exited at start');
    const up = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (up) break;
    if (Date.now() > deadline) throw new Error('the server did not start within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name: 'server',
    writeUrl: `${base}/write?db=edgeworker&precision=ns`,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startInflux(): Promise<Target | undefined> {
  if (spawnSync('influxd', ['version']).status !== 0) return undefined;
  const cleanups: Array<() => Promise<void>> = [];
  const influx = await startInfluxd({ after: (fn: () => Promise<void>) => void cleanups.push(fn) });
  await influx.createDatabase('bench');
  return {
    name: 'influxd',
    writeUrl: `${influx.url}/write?db=bench&precision=ns`,
    async stop() {
      for (const fn of cleanups) await fn();
    },
  };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const server = await startServer();
  const influx = await startInflux();
  try {
    let endMs = Date.now() - 3_600_000;
    for (const shape of SHAPES) {
      // Each shape writes newer data than the one before, as live agents do.
      const bodies = makeBodies(shape, endMs);
      endMs += 3_600_000;
      const warm = bodies.slice(0, 2);
      const measured = bodies.slice(2);
      if (influx) for (const b of warm) await post(influx.writeUrl, b, shape.gzip);
      for (const b of warm) await post(server.writeUrl, b, shape.gzip);
      const anchor = influx ? await load(influx, shape, measured) : undefined;
      const value = await load(server, shape, measured);
      rows.push(row(`ingest ${shape.name}`, value, anchor));
      if (shape.gzip) {
        // The same bodies again: every point replaces a stored one (InfluxDB overwrites in place).
        const again = measured.slice(0, 10);
        const anchorAgain = influx ? await load(influx, shape, again) : undefined;
        const valueAgain = await load(server, shape, again);
        rows.push({ ...row(`ingest ${shape.name}, every point a rewrite`, valueAgain, anchorAgain), goal: undefined, ok: undefined });
      }
    }
  } finally {
    await server.stop();
    await influx?.stop();
    agent.destroy();
  }
  return rows;
}

function row(name: string, value: number, anchor: number | undefined): BenchRow {
  const r: BenchRow = { name, value: Math.round(value), unit: 'points/s', goal: `>= ${GOAL}x influxd` };
  if (anchor !== undefined) {
    r.anchor = { name: 'influxd 1.x', value: Math.round(anchor) };
    r.ratio = value / anchor;
    r.ok = r.ratio >= GOAL;
  }
  return r;
}

await runAlone({ run } satisfies BenchModule, import.meta.url);
