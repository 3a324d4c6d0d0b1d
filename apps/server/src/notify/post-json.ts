/**
 * POSTs JSON to a webhook (Slack's or a generic one) and sorts the failures:
 * 2xx is delivered; 408, 429 and 5xx, time-outs and connection errors may pass
 * (retried); any other 4xx means the request itself is wrong (not retried).
 */
import { PermanentError, RetryLaterError } from './retry.ts';

const USER_AGENT = 'EdgeWorker-Monitor-Notifier';

export async function postJson(url: string, body: unknown, signal: AbortSignal): Promise<void> {
  // Webhook URLs carry their secret in the path: errors name the origin only.
  const where = new URL(url).origin;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': USER_AGENT },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new Error(`POST to ${where} failed: ${networkReason(err)}`);
  }
  // Read (a little of) the body: it says why, and it frees the connection.
  const text = await res.text().catch(() => '');
  if (res.ok) return;
  const detail = text.trim().slice(0, 200);
  const message = `POST to ${where} answered HTTP ${res.status}${detail ? `: ${detail}` : ''}`;
  if (res.status === 408 || res.status === 429) throw new RetryLaterError(message, retryAfterMs(res.headers.get('retry-after')));
  if (res.status >= 400 && res.status < 500) throw new PermanentError(message);
  throw new Error(message);
}

/** undici hides the useful part (ECONNREFUSED, ENOTFOUND) in `cause`. */
function networkReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.message) return cause.message.includes(cause.code ?? '') ? cause.message : `${cause.code}: ${cause.message}`;
  if (cause?.code) return cause.code;
  return err instanceof Error ? err.message : String(err);
}

/** Retry-After as seconds or as an HTTP date. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
