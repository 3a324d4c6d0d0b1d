/**
 * Starts the real app (through buildApp) on a free loopback port with a fresh
 * DATA_DIR, and closes and deletes everything when the test ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { buildApp, type App, type AppOverrides } from '../app.ts';
import { loadConfig, type Config } from '../config.ts';

export interface TestApp {
  app: App;
  url: string;
  config: Config;
}

export async function startTestApp(t: TestContext, env: Record<string, string> = {}, overrides: AppOverrides = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ewm-app-'));
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', WEB_DIST_DIR: join(dataDir, 'no-web'), ...env });
  const app = await buildApp(config, overrides);
  t.after(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { app, url: `http://127.0.0.1:${address.port}`, config };
}

/** One line of the seed's measurement, timestamp in ms. */
export function line(o: { pop: string; fn?: string; ms: number; t: number; lat?: number; lon?: number; city?: string }): string {
  const tags = `pop_code=${o.pop},function_name=${o.fn ?? 'ssr-render'}${o.city ? `,city=${o.city.replace(/ /g, '\\ ')}` : ''}`;
  const fields = [`cold_start_time_ms=${o.ms}`];
  if (o.lat !== undefined) fields.push(`latitude=${o.lat}`);
  if (o.lon !== undefined) fields.push(`longitude=${o.lon}`);
  return `cold_start_metrics,${tags} ${fields.join(',')} ${o.t}`;
}

export async function write(url: string, body: string | Buffer, opts: { precision?: string; headers?: Record<string, string>; path?: string } = {}) {
  const res = await fetch(`${url}${opts.path ?? '/write'}?db=edgeworker&precision=${opts.precision ?? 'ms'}`, {
    method: 'POST',
    body,
    headers: { 'content-type': 'text/plain; charset=utf-8', ...opts.headers },
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

export async function getJson<T = any>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}
