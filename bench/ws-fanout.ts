/**
 * One update to N WebSocket clients (10,000 unless the file-descriptor limit says
 * fewer): the time from the broadcast call to the last client receiving it, for the
 * product's hub (`hub.broadcast`, the same call a `metrics_update` makes) and for a
 * bare `ws` server looping over its clients with the same text. The clients live in a
 * child process (bench/child/ws-clients.ts), which reports over IPC when the last one
 * got the message; the IPC hop is in both figures. A second row gives the CPU time of
 * the sending loop, which a busy machine disturbs less than the wall clock. Each side: PASSES × ROUNDS broadcasts,
 * passes interleaved, median.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { ServerMessage } from '@edgeworker/schema';
import { percentile, runAlone, type BenchRow } from './lib.ts';
import { startBenchApp } from './start-app.ts';

const WANTED = Number(process.env.BENCH_WS_CLIENTS ?? 10_000);
const ROUNDS = 8;
const PASSES = 4; // bare, product, bare, product…: a load spike on this shared machine hits both
const CHILD = fileURLToPath(new URL('./child/ws-clients.ts', import.meta.url));

/** The soft limit on open files (Linux), or undefined where /proc is not there. */
function fileLimit(): number | undefined {
  try {
    const m = /Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function startClients(): { child: ChildProcess; next: (type: string) => Promise<Record<string, unknown>> } {
  const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters: Array<{ type: string; resolve: (m: Record<string, unknown>) => void }> = [];
  child.on('message', (m: Record<string, unknown>) => {
    const i = waiters.findIndex((w) => w.type in m);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
  });
  const next = (type: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ws clients: no ${type} within 60 s`)), 60_000);
      waiters.push({ type, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  return { child, next };
}

/** Connects `count` clients to `url`, then times ROUNDS broadcasts made by `broadcast`. */
async function measure(url: string, count: number, broadcast: () => void): Promise<{ times: number[]; cpu: number[] }> {
  const { child, next } = startClients();
  try {
    const ready = next('ready');
    child.send({ connect: url, count });
    const r = await ready;
    if (r.clients !== count) throw new Error(`only ${String(r.clients)} of ${count} clients connected`);
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const armed = next('armed');
      child.send({ arm: true });
      await armed;
      const done = next('done');
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      broadcast();
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      await done;
      times.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 200));
    }
    return { times, cpu };
  } finally {
    child.send({ close: true });
    await new Promise((r) => child.once('exit', r));
  }
}

export async function run(): Promise<BenchRow[]> {
  const limit = fileLimit();
  // The server side holds one descriptor per client; leave room for the store and the rest.
  const count = limit === undefined ? WANTED : Math.min(WANTED, limit - 500);
  const bench = await startBenchApp();
  try {
    const data = (await (await fetch(`${bench.base}/api/dashboard/overview`)).json()) as Extract<ServerMessage, { type: 'metrics_update' }>['data'];
    const message: ServerMessage = { type: 'metrics_update', data };
    const text = JSON.stringify(message);

    // The anchor: a bare ws server that greets like the hub and sends the same text.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => ws.send(text));
    const bareUrl = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
    const hub = bench.app.services.hub;
    const bareTimes: number[] = [];
    const productTimes: number[] = [];
    const bareCpu: number[] = [];
    const productCpu: number[] = [];
    try {
      for (let pass = 0; pass < PASSES; pass++) {
        const b = await measure(bareUrl, count, () => {
          for (const ws of wss.clients) ws.send(text);
        });
        bareTimes.push(...b.times);
        bareCpu.push(...b.cpu);
        const p = await measure(`ws://127.0.0.1:${bench.port}/ws`, count, () => hub.broadcast(message));
        productTimes.push(...p.times);
        productCpu.push(...p.cpu);
      }
    } finally {
      await new Promise((r) => wss.close(r));
    }
    const bare = percentile(bareTimes, 0.5);
    const product = percentile(productTimes, 0.5);
    const ratio = product / bare;
    const cpuBare = percentile(bareCpu, 0.5);
    const cpuProduct = percentile(productCpu, 0.5);
    return [
      {
        name: `one update to ${count} ws clients${count < WANTED ? ` (open-file limit ${limit})` : ''}`,
        value: Math.round(product * 10) / 10,
        unit: 'ms',
        anchor: { name: 'bare ws', value: Math.round(bare * 10) / 10 },
        ratio,
        goal: '<= 1.2x',
        ok: ratio <= 1.2,
      },
      // The same sends in CPU time (user + system, the sending process): steadier than the
      // wall clock when other processes compete for the two cores.
      {
        name: `  server CPU for that update`,
        value: Math.round(cpuProduct * 10) / 10,
        unit: 'ms',
        anchor: { name: 'bare ws', value: Math.round(cpuBare * 10) / 10 },
        ratio: cpuProduct / cpuBare,
      },
    ];
  } finally {
    await bench.stop();
  }
}

await runAlone({ run }, import.meta.url);
