/**
 * Runs a real InfluxDB 1.x (`influxd` from the Debian package) for tests: its own
 * config, data and ports in a temporary directory on loopback. It can be stopped and
 * started again on the same port and data (the fault tests need that).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, type TestContext } from 'node:test';
import { freePort } from './free-port.ts';

export interface Influxd {
  url: string;
  port: number;
  /** Creates a database (idempotent). */
  createDatabase(name: string): Promise<void>;
  /** Runs InfluxQL against a database; returns the parsed JSON. */
  query(db: string, q: string): Promise<any>;
  /** SIGTERM (a clean stop) by default; SIGKILL for a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  start(): Promise<void>;
  /** The running influxd's process id (the bench reads its CPU time). */
  pid(): number | undefined;
}

const START_TIMEOUT_MS = 20_000;

/** `t` is a test context or node:test's module-level `{ after }`; influxd stops and its files go when it ends. */
export async function startInfluxd(t: Pick<TestContext, 'after'> | { after: (fn: () => Promise<void>) => void }, opts: { authEnabled?: boolean } = {}): Promise<Influxd> {
  const dir = mkdtempSync(join(tmpdir(), 'ewm-influxd-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  auth-enabled = ${opts.authEnabled === true}
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
`,
  );
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  let output = '';

  async function start() {
    if (child) return;
    output = '';
    const proc = spawn('influxd', ['run', '-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    proc.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    proc.on('exit', () => {
      if (child === proc) child = undefined;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (!child) throw new Error(`influxd exited at start:\n${output}`);
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 204) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`influxd did not answer /ping within ${START_TIMEOUT_MS} ms:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM') {
    const proc = child;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  }

  async function query(db: string, q: string) {
    const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ db, q, epoch: 'ms' }) });
    const json = (await res.json()) as any;
    if (!res.ok || json.error || json.results?.[0]?.error) throw new Error(`influxd query failed: ${JSON.stringify(json)}`);
    return json;
  }

  t.after(async () => {
    await stop('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    url,
    port: httpPort,
    createDatabase: async (name) => void (await query(name, `CREATE DATABASE "${name}"`)),
    query,
    stop,
    start,
    pid: () => child?.pid,
  };
}

/**
 * One influxd for a whole test file: started before its first test, stopped after
 * its last. Returns a getter, since the server exists only once `before` has run.
 */
export function useInfluxdForFile(): () => Influxd {
  let influx: Influxd | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  before(async () => {
    influx = await startInfluxd({ after: (fn: () => Promise<void>) => void cleanups.push(fn) });
  });
  after(async () => {
    for (const fn of cleanups) await fn();
  });
  return () => {
    if (!influx) throw new Error('influxd is not started yet: call the getter inside a test');
    return influx;
  };
}
