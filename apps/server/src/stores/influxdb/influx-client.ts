/**
 * A small client for InfluxDB's v1 HTTP query API (`/query`, `/ping`). The v1 API is
 * the one every InfluxDB speaks: 1.x natively, 2.x through DBRP mappings and 3.x Core,
 * which has no Flux. Each request has a timeout that aborts the HTTP request, which
 * makes InfluxDB stop the query (it watches for the client going away).
 */
export type InfluxErrorKind = 'unreachable' | 'timeout' | 'auth' | 'query' | 'server';

export class InfluxError extends Error {
  override name = 'InfluxError';
  constructor(
    readonly kind: InfluxErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface InfluxAuth {
  token?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
}

export interface InfluxClientOptions extends InfluxAuth {
  /** Base URL without path, e.g. http://127.0.0.1:8086. */
  url: string;
  db: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface InfluxSeries {
  name?: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** One statement's result: its series (empty when nothing matched). */
export type StatementResult = InfluxSeries[];

export interface InfluxClient {
  /** Runs one or more statements in one request; results in statement order. Times in epoch ms. */
  query(statements: string[]): Promise<StatementResult[]>;
  ping(): Promise<void>;
  /** Writes line protocol (ns precision) to the database (its default retention policy, or `rp`); resolves once InfluxDB answered 204. */
  writeLines(lines: string, rp?: string): Promise<void>;
  /** CREATE DATABASE is idempotent in InfluxQL. */
  createDatabase(): Promise<void>;
}

/** `Authorization: Token <t>` (2.x/3.x, and 1.8+ with `user:password`) or basic auth (1.x). */
export function authHeaders(auth: InfluxAuth): Record<string, string> {
  if (auth.token) return { authorization: `Token ${auth.token}` };
  if (auth.username !== undefined) {
    return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}` };
  }
  return {};
}

export function createInfluxClient(opts: InfluxClientOptions): InfluxClient {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const base = opts.url.replace(/\/+$/, '');
  const headers = authHeaders(opts);

  async function request(path: string, init: RequestInit, what: string): Promise<Response> {
    try {
      return await doFetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) }, signal: AbortSignal.timeout(opts.timeoutMs) });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        throw new InfluxError('timeout', `InfluxDB at ${base} did not answer ${what} within ${opts.timeoutMs} ms (INFLUX_TIMEOUT_MS); the request was cancelled`, { cause: err });
      }
      const code = (e.cause as { code?: string } | undefined)?.code ?? e.message;
      throw new InfluxError('unreachable', `cannot reach InfluxDB at ${base} (${code}): is it running, and is INFLUX_URL right?`, { cause: err });
    }
  }

  async function failure(res: Response, what: string): Promise<InfluxError> {
    const text = (await res.text().catch(() => '')).slice(0, 300);
    let detail = text;
    try {
      detail = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    if (res.status === 401 || res.status === 403) {
      return new InfluxError('auth', `InfluxDB refused ${what} (${res.status} ${detail}): check INFLUX_TOKEN or INFLUX_USERNAME/INFLUX_PASSWORD`);
    }
    if (res.status >= 500) return new InfluxError('server', `InfluxDB failed ${what} (${res.status} ${detail})`);
    return new InfluxError('query', `InfluxDB rejected ${what} (${res.status} ${detail})`);
  }

  async function query(statements: string[]): Promise<StatementResult[]> {
    const body = new URLSearchParams({ db: opts.db, epoch: 'ms', q: statements.join(';\n') });
    const res = await request('/query', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 'a query');
    if (!res.ok) throw await failure(res, 'a query');
    let json: { results?: Array<{ statement_id?: number; series?: InfluxSeries[]; error?: string }>; error?: string };
    try {
      json = (await res.json()) as typeof json;
    } catch (err) {
      // The timeout also covers reading the answer: a slow body is a timeout, not bad JSON.
      if ((err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError') {
        throw new InfluxError('timeout', `InfluxDB did not finish answering a query within ${opts.timeoutMs} ms (INFLUX_TIMEOUT_MS); the request was cancelled`, { cause: err });
      }
      throw new InfluxError('server', `InfluxDB sent an answer that is not JSON: ${(err as Error).message}`, { cause: err });
    }
    if (json.error) throw new InfluxError('query', `InfluxDB rejected a query: ${json.error}`);
    const results = json.results ?? [];
    return statements.map((_, i) => {
      const r = results.find((x) => (x.statement_id ?? 0) === i) ?? results[i];
      if (r?.error) {
        // A database that does not exist yet is an empty store, not a failure.
        if (/database not found/.test(r.error)) return [];
        throw new InfluxError('query', `InfluxDB rejected a query: ${r.error}`);
      }
      return r?.series ?? [];
    });
  }

  return {
    query,
    async writeLines(lines, rp) {
      const res = await request(`/write?${new URLSearchParams({ db: opts.db, precision: 'ns', ...(rp ? { rp } : {}) })}`, { method: 'POST', body: lines, headers: { 'content-type': 'text/plain' } }, 'a write');
      if (res.status !== 204) throw await failure(res, 'a write');
    },
    async ping() {
      const res = await request('/ping', { method: 'GET' }, 'a ping');
      await res.arrayBuffer().catch(() => undefined);
      if (res.status !== 204 && res.status !== 200) throw await failure(res, 'a ping');
    },
    async createDatabase() {
      const body = new URLSearchParams({ q: `CREATE DATABASE ${quoteIdent(opts.db)}` });
      const res = await request('/query', { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 'CREATE DATABASE');
      if (!res.ok) throw await failure(res, `CREATE DATABASE ${opts.db}`);
      const json = (await res.json()) as { results?: Array<{ error?: string }> };
      const err = json.results?.[0]?.error;
      // 2.x/3.x have no CREATE DATABASE over v1: the bucket and its DBRP mapping must exist already.
      if (err && !/not supported|not implemented|unsupported/i.test(err)) {
        throw new InfluxError('query', `cannot create database ${opts.db}: ${err}`);
      }
    },
  };
}

/** InfluxQL identifier in double quotes (the same escapes as a string, see quoteString). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * InfluxQL string literal in single quotes. InfluxQL's scanner knows four escapes
 * (`\\`, `\'`, `\"`, `\n`) and refuses a raw newline inside a string, so a newline
 * is written as `\n`; every other character stands for itself.
 */
export function quoteString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}
