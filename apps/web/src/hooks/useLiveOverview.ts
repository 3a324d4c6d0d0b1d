/**
 * Live overview over the WebSocket, with REST polling while the socket is down.
 *
 * States:
 *   connecting   first socket attempt in progress, nothing known yet
 *   live         socket open; `hello` and `metrics_update` messages drive the data
 *   reconnecting socket closed; a retry is scheduled (1 s → 30 s, jittered) and polling
 *                is running but has not answered (yet) either
 *   polling      socket still down, but GET /api/dashboard/overview answers every 5 s
 *
 * `version` increments whenever fresh data arrives (hello, metrics_update, or a poll), so
 * dependants (heatmap, drill-down) refetch on it.
 */
import { useEffect, useState } from 'react';
import type { Alert, Overview } from '@edgeworker/schema';
import { api, errorMessage, isAbort } from '../api/client';
import { liveSocketUrl, parseServerMessage } from '../api/messages';
import { socketProtocols } from '../api/token';
import { backoffDelay } from '../lib/backoff';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'polling';

export const POLL_INTERVAL_MS = 5_000;

export interface LiveOverview {
  overview: Overview | null;
  connection: ConnectionState;
  /** Client clock (epoch ms) when data last arrived, by any path. */
  lastUpdateAt: number | null;
  /** Increments on every arrival of fresh data. */
  version: number;
  /** When the next socket attempt is due, while disconnected. */
  nextRetryAt: number | null;
  /** Why polling failed, while it does. */
  error: string | null;
  /** The newest alert change pushed over the socket. */
  lastAlert: Alert | null;
  /**
   * Increments on every alert message, on every (re)connect and on every poll, so alert
   * lists refetch whenever they may have missed a change.
   */
  alertVersion: number;
}

const INITIAL: LiveOverview = {
  overview: null,
  connection: 'connecting',
  lastUpdateAt: null,
  version: 0,
  nextRetryAt: null,
  error: null,
  lastAlert: null,
  alertVersion: 0,
};

export function useLiveOverview(window: string): LiveOverview {
  const [state, setState] = useState<LiveOverview>(INITIAL);

  useEffect(() => {
    let disposed = false;
    let socket: WebSocket | null = null;
    let socketOpen = false;
    let attempt = 0;
    let retryTimer: ReturnType<typeof setTimeout> | undefined;
    let pollTimer: ReturnType<typeof setInterval> | undefined;
    let pollCtrl: AbortController | null = null;

    const accept = (overview: Overview) => {
      setState((s) => ({ ...s, overview, lastUpdateAt: Date.now(), version: s.version + 1 }));
    };

    const poll = async () => {
      if (pollCtrl || disposed) return; // one poll in flight at most
      const ctrl = new AbortController();
      pollCtrl = ctrl;
      try {
        const overview = await api.overview(window, ctrl.signal);
        if (disposed || socketOpen || ctrl.signal.aborted) return;
        accept(overview);
        setState((s) => ({ ...s, connection: 'polling', error: null, alertVersion: s.alertVersion + 1 }));
      } catch (err) {
        if (disposed || isAbort(err) || socketOpen) return;
        setState((s) => ({ ...s, connection: 'reconnecting', error: errorMessage(err) }));
      } finally {
        if (pollCtrl === ctrl) pollCtrl = null;
      }
    };

    const startPolling = () => {
      if (pollTimer !== undefined) return;
      void poll();
      pollTimer = setInterval(() => void poll(), POLL_INTERVAL_MS);
    };

    const stopPolling = () => {
      if (pollTimer !== undefined) clearInterval(pollTimer);
      pollTimer = undefined;
      pollCtrl?.abort();
      pollCtrl = null;
    };

    const scheduleReconnect = () => {
      const delay = backoffDelay(attempt);
      attempt += 1;
      setState((s) => ({
        ...s,
        connection: s.connection === 'polling' ? 'polling' : 'reconnecting',
        nextRetryAt: Date.now() + delay,
      }));
      startPolling();
      retryTimer = setTimeout(connect, delay);
    };

    function connect() {
      retryTimer = undefined;
      if (disposed) return;
      let ws: WebSocket;
      try {
        ws = new WebSocket(liveSocketUrl(), socketProtocols());
      } catch {
        scheduleReconnect();
        return;
      }
      socket = ws;
      ws.onopen = () => {
        socketOpen = true;
        stopPolling();
        setState((s) => ({ ...s, connection: 'live', nextRetryAt: null, error: null, alertVersion: s.alertVersion + 1 }));
      };
      ws.onmessage = (ev: MessageEvent) => {
        const msg = parseServerMessage(ev.data);
        if (!msg) return; // malformed or a type this version does not know: ignore
        if (msg.type === 'hello') {
          attempt = 0; // a server that greets us is healthy: start backoff afresh next time
          accept(msg.data.overview);
        } else if (msg.type === 'metrics_update') {
          accept(msg.data);
        } else if (msg.type === 'alert') {
          const alert = msg.data;
          setState((s) => ({ ...s, lastAlert: alert, alertVersion: s.alertVersion + 1 }));
        }
      };
      ws.onclose = () => {
        if (socket === ws) socket = null;
        socketOpen = false;
        if (!disposed) scheduleReconnect();
      };
    }

    // The browser knows the network came back before our backoff does: retry at once.
    const onOnline = () => {
      if (socket || disposed) return;
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      attempt = 0;
      connect();
    };
    globalThis.addEventListener('online', onOnline);

    connect();

    return () => {
      disposed = true;
      globalThis.removeEventListener('online', onOnline);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      stopPolling();
      if (socket) {
        socket.onopen = null;
        socket.onmessage = null;
        socket.onclose = null;
        socket.close();
        socket = null;
      }
    };
  }, [window]);

  return state;
}
