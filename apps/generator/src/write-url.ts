/**
 * Turns what an operator types (--target plus --db/--bucket/--org) into the exact
 * InfluxDB write URL. A full write URL is used as given (its query kept); a base URL
 * gets the 1.x (/write?db=) or 2.x/3.x (/api/v2/write?bucket=) path appended.
 */
import type { Precision } from '@edgeworker/line-protocol';

export type { Precision };

export interface WriteTarget {
  url: URL;
  precision: Precision;
  /** user:password found in the URL itself: fetch refuses such URLs, so they move to a header. */
  urlCredentials: { username: string; password: string } | null;
}

// InfluxDB 1.x also spells nanoseconds/microseconds as n/u.
const PRECISION_ALIASES: Record<string, Precision> = { ns: 'ns', n: 'ns', us: 'us', u: 'us', ms: 'ms', s: 's' };

export function resolveWriteTarget(opts: {
  url: string;
  db?: string;
  bucket?: string;
  org?: string;
  precision?: Precision;
}): WriteTarget {
  let url: URL;
  try {
    url = new URL(opts.url);
  } catch {
    throw new Error(`target "${opts.url}" is not a URL (expected e.g. http://localhost:8086 or http://host/write?db=x)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`target "${opts.url}" must be an http:// or https:// URL`);
  }
  const urlCredentials = url.username
    ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
    : null;
  url.username = '';
  url.password = '';
  url.hash = '';

  const path = url.pathname.replace(/\/+$/, '');
  const q = url.searchParams;
  if (path.endsWith('/write')) {
    // Full write URL: keep what it says, fill in only what is missing.
    const isV2 = path.endsWith('/api/v2/write');
    if (isV2) {
      if (!q.has('bucket') && opts.bucket !== undefined) q.set('bucket', opts.bucket);
      if (!q.has('org') && opts.org !== undefined) q.set('org', opts.org);
      if (!q.has('bucket')) {
        throw new Error(`target "${opts.url}" is a /api/v2/write URL without bucket=; add it to the URL or pass a bucket`);
      }
    } else if (!q.has('db')) {
      q.set('db', opts.db ?? 'edgeworker');
    }
  } else {
    const base = path; // e.g. "" or "/influx" behind a reverse proxy
    if (opts.bucket !== undefined) {
      url.pathname = `${base}/api/v2/write`;
      q.set('bucket', opts.bucket);
      if (opts.org !== undefined) q.set('org', opts.org);
    } else {
      url.pathname = `${base}/write`;
      q.set('db', opts.db ?? 'edgeworker');
    }
  }

  const inUrl = q.get('precision');
  let precision: Precision = opts.precision ?? 'ns';
  if (inUrl !== null) {
    const fromUrl = PRECISION_ALIASES[inUrl];
    if (fromUrl === undefined) {
      throw new Error(`target "${opts.url}" has precision=${inUrl}; expected ns, us, ms or s`);
    }
    if (opts.precision !== undefined && opts.precision !== fromUrl) {
      throw new Error(`target "${opts.url}" says precision=${inUrl} but precision ${opts.precision} was requested`);
    }
    precision = fromUrl; // timestamps are encoded to match what the URL announces
  } else {
    q.set('precision', precision);
  }
  return { url, precision, urlCredentials };
}

/** The URL for logs and error messages: no secrets in query parameters. */
export function redactUrl(url: URL): string {
  const copy = new URL(url);
  for (const key of ['p', 'password', 'token', 'u']) {
    if (copy.searchParams.has(key)) copy.searchParams.set(key, '***');
  }
  return copy.toString();
}
