/**
 * The dashboard's only door to the server's REST API. Same origin; every call takes
 * an AbortSignal; failures become an ApiError carrying the server's `{code, message, requestId}`.
 */
import type { FunctionInfo, HeatmapEntry, Overview, PopDetail, Timeseries } from '@edgeworker/schema';

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

export async function apiGet<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(buildUrl(path, params), { signal, headers: { accept: 'application/json' } });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError('network', 'The server cannot be reached.', null);
  }
  if (!res.ok) throw await toApiError(res);
  try {
    return (await res.json()) as T;
  } catch {
    throw new ApiError('bad_response', `The server sent a response that is not JSON (${path}).`, res.status);
  }
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
    apiGet<HeatmapEntry[]>('/api/heatmap', { window, function: fn }, signal),

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

  functions: (signal?: AbortSignal) => apiGet<FunctionInfo[]>('/api/functions', {}, signal),
};
