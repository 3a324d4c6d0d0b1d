/**
 * Ingest throughput of the server's `/write` into the embedded store beside InfluxDB 1.x
 * (`influxd`, started here when installed), for the two body shapes of issue 11:
 *   - 5,000-line uncompressed bodies, 4 requests in flight;
 *   - 20,000-point gzip bodies, one at a time.
 * Both targets get the same bodies in the same run, each in its own process (the server
 * as `npm run server` runs it), in alternating rounds; each side's best round counts, so
 * a burst of load from other processes does not decide the ratio. Every load is bounded
 * in bodies and in time. Goal: >= 1.5x InfluxDB. Beside each throughput row, the CPU
 * time each process spent per point (user + system, all threads, from /proc): on a
 * shared machine the more robust measure of the work each side does.
 *
 * Rows without a goal: bodies the store has already seen (each point replaced, last
 * write wins: the slow path of the write rule), and the cardinality figures of issue 15
 * H2 (one write of 20,000 new POPs; a one-line write sent during a 3,000-new-POP one).
 *
 * BENCH_SERVER_NODE_ARGS adds node flags to the server process (e.g. `--cpu-prof`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const TIME_BOUND_MS = Number(process.env.BENCH_INGEST_MS ?? 1500);
const ROUNDS = 3;

interface Shape {
  name: string;
  linesPerBody: number;
  bodies: number;
  inFlight: number;
  gzip: boolean;
}

const SHAPES: Shape[] = [
  { name: '5,000-line bodies, 4 in flight', linesPerBody: 5_000, bodies: 40, inFlight: 4, gzip: false },
  { name: '20,000-point gzip bodies', linesPerBody: 20_000, bodies: 10, inFlight: 1, gzip: true },
];

interface Target {
  name: string;
  writeUrl: string;
  pid(): number | undefined;
  stop(): Promise<void>;
}

/** CPU time (user + system, every thread) of a process so far, in ms; Linux only, else 0. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks (100 per second), after the command name in parentheses.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
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

interface Measure {
  pointsPerS: number;
  cpuUsPerPoint: number;
}

/** Points/s with `inFlight` requests outstanding, until the bodies run out or the time bound passes. */
async function load(target: Target, shape: Shape, bodies: Buffer[]): Promise<Measure> {
  let next = 0;
  let points = 0;
  const cpu0 = cpuMs(target.pid());
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
  const seconds = (performance.now() - t0) / 1000;
  return { pointsPerS: points / seconds, cpuUsPerPoint: ((cpuMs(target.pid()) - cpu0) * 1000) / points };
}

/** Alternating rounds on fresh bodies; each side's best round. */
async function compare(server: Target, influx: Target | undefined, shape: Shape, rounds: Buffer[][]) {
  const best = (a: Measure | undefined, b: Measure) => (!a || b.pointsPerS > a.pointsPerS ? b : a);
  let mine: Measure | undefined;
  let theirs: Measure | undefined;
  for (const bodies of rounds) {
    if (influx) theirs = best(theirs, await load(influx, shape, bodies));
    mine = best(mine, await load(server, shape, bodies));
  }
  return { mine: mine!, theirs };
}

async function startServer(env: Record<string, string> = {}): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ewm-bench-ingest-'));
  const port = await freePort();
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...extra, '--import', 'tsx', 'apps/server/src/bin/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'error', DETECTOR: 'off', WEB_DIST_DIR: join(dataDir, 'none'), ...env },
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
    pid: () => child.pid,
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
    pid: () => influx.pid(),
    async stop() {
      for (const fn of cleanups) await fn();
    },
  };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // Room for the cardinality rows (20,000 + 3,000 new POPs).
  const server = await startServer({ MAX_POPS: '50000' });
  const influx = await startInflux();
  try {
    let endMs = Date.now() - 6 * 3_600_000;
    for (const shape of SHAPES) {
      // Each round writes newer data than the one before, as live agents do.
      const rounds: Buffer[][] = [];
      for (let r = 0; r < ROUNDS; r++) {
        rounds.push(makeBodies(shape, endMs));
        endMs += 3_600_000;
      }
      const warm = rounds[0]!.splice(0, 2);
      if (influx) for (const b of warm) await post(influx.writeUrl, b, shape.gzip);
      for (const b of warm) await post(server.writeUrl, b, shape.gzip);
      const { mine, theirs } = await compare(server, influx, shape, rounds);
      rows.push(...measureRows(`ingest ${shape.name}`, mine, theirs, true));
      if (shape.gzip) {
        // The same bodies again: every point replaces a stored one (InfluxDB overwrites in place).
        const again = await compare(server, influx, shape, [rounds[0]!.slice(0, 6)]);
        rows.push(...measureRows(`ingest ${shape.name}, every point a rewrite`, again.mine, again.theirs, false));
      }
    }
    rows.push(...(await cardinalityRows(server)));
  } finally {
    await server.stop();
    await influx?.stop();
    agent.destroy();
  }
  return rows;
}

function measureRows(name: string, mine: Measure, theirs: Measure | undefined, withGoal: boolean): BenchRow[] {
  const throughput: BenchRow = { name, value: Math.round(mine.pointsPerS), unit: 'points/s' };
  const cpu: BenchRow = { name: `${name}: CPU per point`, value: Math.round(mine.cpuUsPerPoint * 100) / 100, unit: 'µs' };
  if (withGoal) throughput.goal = `>= ${GOAL}x influxd`;
  if (theirs) {
    throughput.anchor = { name: 'influxd 1.x', value: Math.round(theirs.pointsPerS) };
    throughput.ratio = mine.pointsPerS / theirs.pointsPerS;
    if (withGoal) throughput.ok = throughput.ratio >= GOAL;
    if (mine.cpuUsPerPoint > 0 && theirs.cpuUsPerPoint > 0) {
      cpu.anchor = { name: 'influxd 1.x', value: Math.round(theirs.cpuUsPerPoint * 100) / 100 };
      cpu.ratio = theirs.cpuUsPerPoint / mine.cpuUsPerPoint; // > 1: the server does less work per point
    }
  }
  return [throughput, cpu];
}

/** Issue 15 H2: new POPs cost like any other row, and do not hold up other writers. */
async function cardinalityRows(server: Target): Promise<BenchRow[]> {
  const t = BigInt(Date.now()) * 1_000_000n;
  const body = (prefix: string, n: number) =>
    Buffer.from(Array.from({ length: n }, (_, i) => `cold_start_metrics,pop_code=${prefix}${i},function_name=ssr-render cold_start_time_ms=${i % 400},latitude=${(i % 170) - 85},longitude=${(i % 350) - 175} ${t}`).join('\n'));
  const big = body('NEWPOP', 20_000);
  let t0 = performance.now();
  await post(server.writeUrl, big, false);
  const bigMs = performance.now() - t0;
  const other = body('OTHER', 3_000);
  const one = Buffer.from(`cold_start_metrics,pop_code=FRA,function_name=ssr-render cold_start_time_ms=12 ${t}`);
  const during = post(server.writeUrl, other, false);
  t0 = performance.now();
  await post(server.writeUrl, one, false);
  const oneMs = performance.now() - t0;
  await during;
  return [
    { name: 'one write of 20,000 new POPs', value: Math.round(bigMs), unit: 'ms' },
    { name: 'one-line write during a 3,000-new-POP write', value: Math.round(oneMs), unit: 'ms', goal: '< 1000', ok: oneMs < 1000 },
  ];
}

await runAlone({ run } satisfies BenchModule, import.meta.url);
