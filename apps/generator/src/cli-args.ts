/**
 * Command-line parsing and validation for the standalone generator. Pure: argv, the
 * INFLUX_TOKEN fallback and the clock come in as arguments, so tests need no process.
 * Every bad value becomes one UsageError line naming the flag and what it accepts.
 */
import { parseArgs } from 'node:util';
import { FUNCTIONS, POPS, findPop, type PopInfo } from '@edgeworker/pops';
import { parseDurationMs, parseInjection, type Injection } from './inject.ts';
import { resolveWriteTarget } from './write-url.ts';
import type { InfluxHttpSinkOptions } from './http-sink.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** The connection flags are the HTTP sink's own options, passed through as given. */
export interface CliConfig extends Pick<InfluxHttpSinkOptions, 'db' | 'bucket' | 'org' | 'token' | 'username' | 'password'> {
  target: string;
  intervalMs: number;
  /** null: pick a random one (and log it). */
  seed: number | null;
  injections: Injection[];
  pops: readonly PopInfo[];
  healthPort: number | null;
  healthHost: string;
  maxBufferedPoints: number;
  gzip: boolean;
  once: boolean;
  logLevel: string;
  /** --backfill: write this much history (ms) first, as fast as the target accepts it; 0 = none. */
  backfillMs: number;
}

export type CliParse = { help: true } | { help: false; config: CliConfig };

export const USAGE = `Usage: npm run generator -- --target URL [options]

Writes one synthetic cold-start sample per POP x function per interval to an
InfluxDB-compatible write endpoint, buffering and retrying while it is down.

  --target URL        write URL (http://host/write?db=x, http://host/api/v2/write?bucket=x)
                      or InfluxDB base URL (http://localhost:8086)            (required)
  --db NAME           1.x database for a base URL (default edgeworker)
  --bucket NAME       2.x/3.x bucket: a base URL then gets /api/v2/write
  --org NAME          2.x organisation
  --token TOKEN       sends "Authorization: Token ..." (default: env INFLUX_TOKEN)
  --username NAME     basic auth (1.x), together with --password
  --password PASS
  --interval MS       milliseconds between batches (default 10000, 100..86400000)
  --seed N            PRNG seed 0..4294967295 (default random, logged): same seed, same data
  --inject SPEC       slow series down, repeatable, e.g.
                      "pops=FRA,AMS;functions=image-resize;factor=2;start=+30s;duration=10m"
                      (pops/functions default *, start now|+30s|RFC 3339|epoch ms, duration forever)
  --pops LIST         only these POP codes, comma separated (default all ${POPS.length})
  --health-port N     serve GET /health on this port (0 = any free port; default off)
  --health-host HOST  address for /health (default 127.0.0.1)
  --max-buffer N      points kept while the target is down; oldest dropped beyond (default 1000000)
  --gzip              gzip request bodies
  --backfill DURATION first write this much history (e.g. 10m, 24h, 7d) as fast as the
                      target accepts it, then continue live (same model and seed rules)
  --once              write one batch, flush, exit 0 (all written) or 1
  --log-level LEVEL   fatal|error|warn|info|debug|trace|silent (default info)
  --help              this text
`;

const MAX_BACKFILL_MS = 90 * 86_400_000;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function intFlag(name: string, text: string | undefined, min: number, max: number, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${text}")`);
  }
  return n;
}

function nonEmpty(name: string, text: string | undefined): string | undefined {
  if (text !== undefined && text.trim() === '') throw new UsageError(`--${name} must not be empty`);
  return text;
}

export function parseCliArgs(argv: string[], env: { INFLUX_TOKEN?: string | undefined }, nowMs: number): CliParse {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: 'string' },
        db: { type: 'string' },
        bucket: { type: 'string' },
        org: { type: 'string' },
        token: { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        interval: { type: 'string' },
        seed: { type: 'string' },
        inject: { type: 'string', multiple: true },
        pops: { type: 'string' },
        'health-port': { type: 'string' },
        'health-host': { type: 'string' },
        'max-buffer': { type: 'string' },
        gzip: { type: 'boolean' },
        once: { type: 'boolean' },
        backfill: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    // node's messages already name the option ("Unknown option '--x'", "argument missing").
    throw new UsageError((err as Error).message.replace(/\s*\n\s*/g, ' '));
  }
  if (values.help) return { help: true };

  const target = nonEmpty('target', values.target);
  if (target === undefined) throw new UsageError('--target is required: an InfluxDB write URL or base URL');
  const db = nonEmpty('db', values.db);
  const bucket = nonEmpty('bucket', values.bucket);
  const org = nonEmpty('org', values.org);
  if (db !== undefined && bucket !== undefined) {
    throw new UsageError('--db (InfluxDB 1.x) and --bucket (2.x/3.x) exclude each other; give one');
  }
  try {
    resolveWriteTarget({ url: target, db, bucket, org });
  } catch (err) {
    throw new UsageError(`--target: ${(err as Error).message}`);
  }

  const username = nonEmpty('username', values.username);
  const password = values.password;
  if ((username === undefined) !== (password === undefined)) {
    throw new UsageError('--username and --password go together (basic auth)');
  }
  let token = nonEmpty('token', values.token);
  if (token !== undefined && username !== undefined) {
    throw new UsageError('--token and --username/--password exclude each other; give one');
  }
  if (token === undefined && username === undefined && env.INFLUX_TOKEN) token = env.INFLUX_TOKEN;

  const intervalMs = intFlag('interval', values.interval, 100, 86_400_000, 10_000);
  const seedText = values.seed;
  const seed = seedText === undefined ? null : intFlag('seed', seedText, 0, 4_294_967_295, 0);
  const healthText = values['health-port'];
  const healthPort = healthText === undefined ? null : intFlag('health-port', healthText, 0, 65_535, 0);
  const healthHost = nonEmpty('health-host', values['health-host']) ?? '127.0.0.1';
  const maxBufferedPoints = intFlag('max-buffer', values['max-buffer'], 1, 1_000_000_000, 1_000_000);

  const logLevel = values['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`);
  }

  let pops: readonly PopInfo[] = POPS;
  if (values.pops !== undefined) {
    const codes = values.pops.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (codes.length === 0) throw new UsageError('--pops must list POP codes, e.g. --pops FRA,AMS');
    const unknown = codes.filter((c) => findPop(c) === undefined);
    if (unknown.length > 0) {
      throw new UsageError(`--pops: unknown POP code(s) ${unknown.join(', ')} (codes are IATA, e.g. FRA, AMS, IAD)`);
    }
    pops = [...new Set(codes.map((c) => findPop(c)!))];
  }

  let backfillMs = 0;
  if (values.backfill !== undefined) {
    const d = parseDurationMs(values.backfill);
    if (d === null || d <= 0 || d > MAX_BACKFILL_MS) {
      throw new UsageError(`--backfill must be a duration like 10m, 24h or 7d, at most 90d (got "${values.backfill}")`);
    }
    backfillMs = d;
  }

  const injections = (values.inject ?? []).map((spec) => parseInjectFlag(spec, nowMs));

  return {
    help: false,
    config: {
      target,
      ...(db !== undefined ? { db } : {}),
      ...(bucket !== undefined ? { bucket } : {}),
      ...(org !== undefined ? { org } : {}),
      ...(token !== undefined ? { token } : {}),
      ...(username !== undefined ? { username, password: password ?? '' } : {}),
      intervalMs,
      seed,
      injections,
      pops,
      healthPort,
      healthHost,
      maxBufferedPoints,
      gzip: values.gzip ?? false,
      once: values.once ?? false,
      logLevel,
      backfillMs,
    },
  };
}

function parseInjectFlag(spec: string, nowMs: number): Injection {
  let inj: Injection;
  try {
    inj = parseInjection(spec, nowMs);
  } catch (err) {
    throw new UsageError(`--inject: ${(err as Error).message}`);
  }
  // A typo in a code would otherwise inject into nothing, silently.
  if (inj.pops !== '*') {
    const unknown = inj.pops.filter((c) => findPop(c) === undefined);
    if (unknown.length > 0) throw new UsageError(`--inject: unknown POP code(s) ${unknown.join(', ')} in "${spec}"`);
  }
  if (inj.functions !== '*') {
    const names = FUNCTIONS.map((f) => f.name);
    const unknown = inj.functions.filter((f) => !names.includes(f));
    if (unknown.length > 0) {
      throw new UsageError(`--inject: unknown function(s) ${unknown.join(', ')} in "${spec}" (known: ${names.join(', ')})`);
    }
  }
  return inj;
}
