/**
 * The dashboard's only door to the server's REST API. Same origin; every call takes
 * an AbortSignal; failures become an ApiError carrying the server's `{code, message, requestId}`.
 */
import { currentToken, tokenRejected } from './token';
import type { Alert, AlertStatus, FunctionInfo, HeatmapEntry, Overview, PopDetail, Timeseries } from '@edgeworker/schema';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

type Params = Record<string, string | number | null | undefined>;

function buildUrl(path: string, params: Params = {}): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') qs.set(k, String(v));
  }
  const q = qs.toString();
  return q ? `${path}?${q}` : path;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

async function toApiError(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON (a proxy's HTML error page, say): fall through to the generic message
  }
  if (isRecord(body) && typeof body.message === 'string') {
    return new ApiError(
      typeof body.code === 'string' ? body.code : `http_${res.status}`,
      body.message,
      res.status,
      typeof body.requestId === 'string' ? body.requestId : undefined,
    );
  }
  return new ApiError(`http_${res.status}`, `${res.status} ${res.statusText || 'request failed'}`, res.status);
}

/** An answer together with whether the server marked it stale (`X-Data-Stale: true`) and which resolution answered it (`X-Resolution`). */
export interface Fetched<T> {
  body: T;
  stale: boolean;
  resolution: string | null;
}

async function request<T>(method: 'GET' | 'POST', path: string, params: Params, signal?: AbortSignal): Promise<Fetched<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  // The signed-in token (viewer or API), when there is one; a server without tokens ignores it.
  const token = currentToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(buildUrl(path, params), { method, signal, headers });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError('network', 'The server cannot be reached.', null);
  }
  if (res.status === 401 && method === 'GET') {
    // A read refused: the server is private and this browser's token is missing or no longer valid.
    tokenRejected();
    throw await toApiError(res);
  }
  if (res.status === 401 || res.status === 403) {
    const e = await toApiError(res);
    throw new ApiError(
      e.code,
      `Not allowed (${res.status}): this action needs the API token: sign in with it (Sign in / Sign out in the header). ${e.message}`,
      res.status,
      e.requestId,
    );
  }
  if (!res.ok) throw await toApiError(res);
  try {
    const body = (await res.json()) as T;
    return { body, stale: res.headers.get('x-data-stale') === 'true', resolution: res.headers.get('x-resolution') };
  } catch {
    throw new ApiError('bad_response', `The server sent a response that is not JSON (${path}).`, res.status);
  }
}

export async function apiGet<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  return (await request<T>('GET', path, params, signal)).body;
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.requestId ? `${err.message} (request ${err.requestId})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export const api = {
  overview: (window: string, signal?: AbortSignal) =>
    apiGet<Overview>('/api/dashboard/overview', { window }, signal),

  heatmap: (window: string, fn: string | null, signal?: AbortSignal) =>
    request<HeatmapEntry[]>('GET', '/api/heatmap', { window, function: fn }, signal),

  pop: (code: string, window: string, signal?: AbortSignal) =>
    apiGet<PopDetail>(`/api/pops/${encodeURIComponent(code)}`, { window }, signal),

  timeseries: (
    code: string,
    q: { from: number; to: number; step: string; fn: string | null },
    signal?: AbortSignal,
  ) =>
    apiGet<Timeseries>(
      `/api/pops/${encodeURIComponent(code)}/timeseries`,
      { from: q.from, to: q.to, step: q.step, function: q.fn },
      signal,
    ),

  /** What a token allows (the stored one by default); never a 401. */
  session: async (token: string | null = currentToken(), signal?: AbortSignal): Promise<Session> => {
    const res = await fetch('/api/session', { signal, headers: token ? { accept: 'application/json', authorization: `Bearer ${token}` } : { accept: 'application/json' } });
    if (!res.ok) throw await toApiError(res);
    return (await res.json()) as Session;
  },

  functions: (signal?: AbortSignal) => apiGet<FunctionInfo[]>('/api/functions', {}, signal),

  alerts: (q: { status: AlertStatus | null; pop: string | null; limit?: number }, signal?: AbortSignal) =>
    apiGet<AlertPage>('/api/alerts', { status: q.status, pop: q.pop, limit: q.limit ?? 200 }, signal),

  acknowledgeAlert: async (id: string) =>
    (await request<Alert>('POST', `/api/alerts/${encodeURIComponent(id)}/acknowledge`, {})).body,

  resolveAlert: async (id: string) =>
    (await request<Alert>('POST', `/api/alerts/${encodeURIComponent(id)}/resolve`, {})).body,
};

/** One page of `GET /api/alerts`. */
export interface AlertPage {
  alerts: Alert[];
  next: string | null;
  total: number;
}

/** `GET /api/session`: what the caller's token allows. */
export interface Session {
  access: 'none' | 'read' | 'write';
  readRequiresToken: boolean;
  writeRequiresToken: boolean;
}
