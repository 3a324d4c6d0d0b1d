/**
 * Live overview over the WebSocket, with REST polling while the socket is down.
 *
 * States:
 *   connecting   first socket attempt in progress, nothing known yet
 *   live         a message arrived on the open socket; `hello` and `metrics_update` drive the data
 *   stale        the server went silent on an open socket (no message of any kind, not even its
 *                `heartbeat`, for 3 of its heartbeat intervals: a stopped or hung process keeps
 *                the TCP connection open, so the socket itself never closes). The socket is given
 *                up, a retry is scheduled and polling runs; the numbers on screen are not live
 *   full         the server refused the socket (close 1013: it holds WS_MAX_CLIENTS clients);
 *                polling keeps the numbers fresh while retries back off
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
import { liveSocketUrl, parseServerMessage, SERVER_FULL_CLOSE_CODE } from '../api/messages';
import { socketProtocols } from '../api/token';
import { backoffDelay } from '../lib/backoff';
import { startWatchdog, type Heard } from '../lib/liveWatchdog';

export type ConnectionState = 'connecting' | 'live' | 'stale' | 'full' | 'reconnecting' | 'polling';

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
  /** Why polling failed, while it does; the server's reason when it refused the socket. */
  error: string | null;
  /** While `stale`: client clock (epoch ms) of the server's last message, of any type. */
  silentSince: number | null;
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
  silentSince: null,
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
    let stopWatchdog: (() => void) | null = null;
    /** Client clock of the last message on any socket. */
    let lastMessageAt: number | null = null;

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
        // Refused by a full server, the numbers still come by polling: say both (the badge does).
        setState((s) => ({
          ...s,
          connection: s.connection === 'full' ? 'full' : 'polling',
          error: s.connection === 'full' ? s.error : null,
          silentSince: null,
          alertVersion: s.alertVersion + 1,
        }));
      } catch (err) {
        if (disposed || isAbort(err) || socketOpen) return;
        setState((s) => ({ ...s, connection: s.connection === 'stale' ? 'stale' : 'reconnecting', error: errorMessage(err) }));
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
        connection: s.connection === 'polling' || s.connection === 'stale' || s.connection === 'full' ? s.connection : 'reconnecting',
        nextRetryAt: Date.now() + delay,
      }));
      startPolling();
      retryTimer = setTimeout(connect, delay);
    };

    /**
     * The watchdog's verdict: the server said nothing for too long on this socket. Its
     * connection may never close by itself (a stopped process keeps the TCP connection open),
     * so it is let go here and a fresh one is tried with the usual backoff.
     */
    const giveUp = (ws: WebSocket) => {
      if (disposed || socket !== ws) return;
      socket = null;
      socketOpen = false;
      ws.onmessage = null;
      ws.onclose = null;
      if (ws.readyState === WebSocket.CONNECTING) {
        // close() now would log an error in the console; end it if it ever opens instead.
        ws.onopen = () => ws.close();
      } else {
        ws.onopen = null;
        ws.close();
      }
      setState((s) => ({
        ...s,
        connection: s.connection === 'polling' || s.connection === 'full' ? s.connection : lastMessageAt === null ? 'reconnecting' : 'stale',
        silentSince: lastMessageAt,
      }));
      scheduleReconnect();
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
      stopWatchdog?.();
      const watchdog = startWatchdog({ onSilent: () => giveUp(ws) });
      stopWatchdog = watchdog.stop;
      let greeted = false;
      ws.onopen = () => {
        socketOpen = true;
      };
      ws.onmessage = (ev: MessageEvent) => {
        lastMessageAt = Date.now();
        const msg = parseServerMessage(ev.data);
        // Any message is a sign of life, even one of a type this version does not know.
        const heard: Heard =
          msg?.type === 'hello' ? { hello: true, intervalMs: msg.data.heartbeatIntervalMs } : msg?.type === 'heartbeat' ? { intervalMs: msg.data.intervalMs } : {};
        watchdog.heard(heard);
        if (!greeted) {
          // Live from the first message, not from the handshake: a full server completes the
          // handshake and closes at once (1013), and that socket was never live.
          greeted = true;
          stopPolling();
          setState((s) => ({ ...s, connection: 'live', nextRetryAt: null, error: null, silentSince: null, alertVersion: s.alertVersion + 1 }));
        }
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
      ws.onclose = (ev: CloseEvent) => {
        watchdog.stop();
        if (socket === ws) socket = null;
        socketOpen = false;
        if (disposed) return;
        if (ev.code === SERVER_FULL_CLOSE_CODE) {
          setState((s) => ({ ...s, connection: 'full', silentSince: null, error: ev.reason || 'the server holds as many live clients as it takes' }));
        }
        scheduleReconnect();
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
      stopWatchdog?.();
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
