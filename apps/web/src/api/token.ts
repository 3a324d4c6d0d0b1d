/**
 * The access token the dashboard sends, kept in this browser: in localStorage when the
 * user asked to stay signed in on this device, else in sessionStorage (gone with the tab).
 * A viewer token reads; an API token also acknowledges and resolves alerts.
 * `ewm.apiToken` is the key operators were told to set by hand before the sign-in form
 * existed; it is still read.
 */
const KEY = 'ewm.token';
const LEGACY_KEY = 'ewm.apiToken';

function storages(): Storage[] {
  const out: Storage[] = [];
  try {
    if (globalThis.sessionStorage) out.push(globalThis.sessionStorage);
    if (globalThis.localStorage) out.push(globalThis.localStorage);
  } catch {
    // storage disabled: no token is kept, the form asks again
  }
  return out;
}

export function storedToken(): string | null {
  for (const s of storages()) {
    try {
      const t = s.getItem(KEY) || s.getItem(LEGACY_KEY);
      if (t) return t;
    } catch {
      // ignore an unreadable storage
    }
  }
  return null;
}

export function storeToken(token: string, remember: boolean): void {
  clearToken();
  try {
    (remember ? globalThis.localStorage : globalThis.sessionStorage)?.setItem(KEY, token);
  } catch {
    // storage disabled: the token lives until the page reloads
  }
  memoryToken = token;
}

export function clearToken(): void {
  memoryToken = null;
  for (const s of storages()) {
    try {
      s.removeItem(KEY);
      s.removeItem(LEGACY_KEY);
    } catch {
      // ignore
    }
  }
}

let memoryToken: string | null = null;

/** The token to send: the one signed in with in this page, else the stored one. */
export function currentToken(): string | null {
  return memoryToken ?? storedToken();
}

/** WebSocket subprotocols carrying the token (browsers cannot set headers on a WebSocket). */
export function socketProtocols(token: string | null = currentToken()): string[] {
  if (!token) return [];
  const bytes = new TextEncoder().encode(token);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  const b64url = btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  return ['edgeworker.v1', `base64url.bearer.${b64url}`];
}

type Listener = () => void;
const listeners = new Set<Listener>();

/** Called by the API client when the server refuses the token (it was changed or revoked). */
export function tokenRejected(): void {
  for (const l of listeners) l();
}

export function onTokenRejected(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
