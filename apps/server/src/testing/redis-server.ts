/**
 * A real redis-server for `*.services.test.ts`: spawned from the installed binary on
 * a free loopback port with a temp dir and no persistence, so a test can also stop
 * it (an outage) and start it again on the same port (recovery). Everything is
 * stopped and deleted when the test ends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './free-port.ts';

export interface RedisServer {
  /** redis://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Stops the server (SIGKILL when `crash`, else SIGTERM) and waits for it to exit. */
  stop(opts?: { crash?: boolean }): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  running(): boolean;
}

const READY_TIMEOUT_MS = 10_000;

/** One raw PING over TCP; true when the server answers +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

export async function startRedisServer(t: TestContext): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let output = '';

  async function start() {
    if (child) return;
    output = '';
    const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = p;
    p.stdout?.on('data', (d) => (output = (output + String(d)).slice(-4000)));
    p.stderr?.on('data', (d) => (output = (output + String(d)).slice(-4000)));
    p.once('exit', () => {
      if (child === p) child = undefined;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (!child) throw new Error(`redis-server exited at start on port ${port}:\n${output}`);
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not answer PING on port ${port} within ${READY_TIMEOUT_MS} ms:\n${output}`);
  }

  async function stop(opts: { crash?: boolean } = {}) {
    const p = child;
    if (!p) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(opts.crash ? 'SIGKILL' : 'SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  t.after(async () => {
    await stop({ crash: true });
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start, running: () => child !== undefined };
}

export { waitFor } from './wait.ts';
