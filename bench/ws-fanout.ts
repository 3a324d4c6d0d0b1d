/**
 * One update to N WebSocket clients: the time from the broadcast call to the last
 * client receiving it, for the product's hub (`hub.broadcast`, the same call a
 * `metrics_update` makes) and for a bare `ws` server looping over its clients with the
 * same text. Each server has its clients in a child process of its own
 * (bench/child/ws-clients.ts), which reports over IPC when the last one got the
 * message; the IPC hop is in both figures.
 *
 * Both sides stay connected and their broadcasts alternate round by round (which side
 * goes first alternates too), so the load of this shared machine, which swings within
 * seconds, weighs on both alike; each side's figure is the median over ROUNDS. This
 * process holds both servers' sockets, so N is 10,000 only when the open-file limit
 * allows 2 × N plus a margin; the row names N and the limit when it had to be fewer.
 * A second row gives the CPU time of the sending loop, which a busy machine disturbs
 * less than the wall clock.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import type { ServerMessage } from '@edgeworker/schema';
import { percentile, runAlone, type BenchRow } from './lib.ts';
import { startBenchApp } from './start-app.ts';

const WANTED = Number(process.env.BENCH_WS_CLIENTS ?? 10_000);
const ROUNDS = 24;
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

interface Clients {
  /** Times one broadcast: wall clock to the last client, and this process's CPU for the sending call. */
  round(broadcast: () => void): Promise<{ ms: number; cpuMs: number }>;
  close(): Promise<void>;
}

/** A child process holding `count` clients of `url`, once every one has its first message. */
async function connectClients(url: string, count: number): Promise<Clients> {
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
  const close = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.send({ close: true });
    await exited;
  };
  try {
    const ready = next('ready');
    child.send({ connect: url, count });
    const r = await ready;
    if (r.clients !== count) throw new Error(`only ${String(r.clients)} of ${count} clients connected to ${url}`);
  } catch (err) {
    child.kill();
    throw err;
  }
  return {
    async round(broadcast) {
      const armed = next('armed');
      child.send({ arm: true });
      await armed;
      const done = next('done');
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      broadcast();
      const c = process.cpuUsage(c0);
      await done;
      return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
    },
    close,
  };
}

export async function run(): Promise<BenchRow[]> {
  const limit = fileLimit();
  // Both servers' sockets are in this process; leave room for the store and the rest.
  const count = limit === undefined ? WANTED : Math.min(WANTED, Math.floor((limit - 500) / 2));
  // Every client of the count must get in (WS_MAX_CLIENTS is 1,000 by default); heartbeats are
  // left out of the rounds by the child (it waits for the broadcast's message, not for any).
  const bench = await startBenchApp({ WS_MAX_CLIENTS: String(count) });
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  const listening = new Promise((r) => wss.once('listening', r));
  const open: Clients[] = [];
  try {
    const data = (await (await fetch(`${bench.base}/api/dashboard/overview`)).json()) as Extract<ServerMessage, { type: 'metrics_update' }>['data'];
    const message: ServerMessage = { type: 'metrics_update', data };
    const text = JSON.stringify(message);

    // The anchor: a bare ws server that greets like the hub and sends the same text.
    await listening;
    wss.on('connection', (ws) => ws.send(text));
    const bareClients = await connectClients(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, count);
    open.push(bareClients);
    const productClients = await connectClients(`ws://127.0.0.1:${bench.port}/ws`, count);
    open.push(productClients);

    const hub = bench.app.services.hub;
    const bare = { ms: [] as number[], cpu: [] as number[] };
    const product = { ms: [] as number[], cpu: [] as number[] };
    const sides = [
      { clients: bareClients, into: bare, broadcast: () => wss.clients.forEach((ws) => ws.send(text)) },
      { clients: productClients, into: product, broadcast: () => hub.broadcast(message) },
    ];
    for (let i = 0; i < ROUNDS; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        const r = await side.clients.round(side.broadcast);
        side.into.ms.push(r.ms);
        side.into.cpu.push(r.cpuMs);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const ms = { bare: percentile(bare.ms, 0.5), product: percentile(product.ms, 0.5) };
    const cpu = { bare: percentile(bare.cpu, 0.5), product: percentile(product.cpu, 0.5) };
    const ratio = ms.product / ms.bare;
    return [
      {
        name: `one update to ${count} ws clients${count < WANTED ? ` (open-file limit ${limit})` : ''}`,
        value: round(ms.product),
        unit: 'ms',
        anchor: { name: 'bare ws', value: round(ms.bare) },
        ratio,
        goal: '<= 1.2x',
        ok: ratio <= 1.2,
      },
      { name: '  server CPU for that update', value: round(cpu.product), unit: 'ms', anchor: { name: 'bare ws', value: round(cpu.bare) }, ratio: cpu.product / cpu.bare },
    ];
  } finally {
    for (const c of open) await c.close();
    await new Promise((r) => wss.close(r));
    await bench.stop();
  }
}

const round = (x: number) => Math.round(x * 10) / 10;

await runAlone({ run }, import.meta.url);
