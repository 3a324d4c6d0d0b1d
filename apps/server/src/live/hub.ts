/**
 * The WebSocket hub. New data (a `data_landed` event) schedules one
 * `metrics_update`; updates are coalesced to at most one per `coalesceMs`, so a
 * burst of writes costs one overview query and one message per client. There is
 * no blind timer: with no new data nothing is sent.
 *
 * Each message is serialised once and handed to every socket without waiting,
 * so a client that stops reading never delays the others; its unsent bytes pile
 * up in its own buffer, and once that passes `maxBufferedBytes` it is dropped
 * (it reconnects and starts from a fresh `hello`). Clients that stop answering
 * pings are dropped too.
 *
 * A `heartbeat` goes to every greeted client every `heartbeatIntervalMs`, data or not: a
 * browser cannot see ping frames, and a stopped or hung server keeps its TCP connections
 * open, so without a message it can read a page would show "Live" over frozen data for ever.
 *
 * At most `maxClients` clients at once: one more is closed right after its handshake with
 * 1013 (Try Again Later) and a reason, and never joins (WS_MAX_CLIENTS).
 */
import type { SpanContext } from '@opentelemetry/api';
import { currentSpanContext, inSpan } from '../telemetry/spans.ts';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { WS_CLOSE_TRY_AGAIN_LATER, type Overview, type ServerMessage } from '@edgeworker/schema';

export interface HubOptions {
  computeOverview: () => Promise<Overview>;
  coalesceMs: number;
  pingIntervalMs: number;
  maxBufferedBytes: number;
  /** A `heartbeat` to every greeted client this often (WS_HEARTBEAT_INTERVAL_MS). */
  heartbeatIntervalMs: number;
  /** Most clients at once (WS_MAX_CLIENTS); one more is refused with close code 1013. */
  maxClients: number;
  log: Logger;
  now?: () => number;
  onDrop?: (reason: 'slow' | 'dead') => void;
  onSent?: (type: string, clients: number) => void;
  /** A connection refused because `maxClients` were connected. */
  onRefuse?: () => void;
}

export type LiveHub = ReturnType<typeof createLiveHub>;

const MAX_LINKS = 32;
/** Bytes sent as a text frame, as the clients expect JSON text. */
const TEXT_FRAME = { binary: false } as const;

interface Client {
  socket: WebSocket;
  alive: boolean;
  /** Its hello was sent (or could not be): heartbeats go to it from then on, so hello stays the first message. */
  greeted: boolean;
}

/** A refused client that never answers our close frame is cut off after this (ws itself waits 30 s). */
const REFUSED_CLOSE_TIMEOUT_MS = 5_000;
/** Refusals are logged at most this often, with the count since the last line. */
const REFUSAL_LOG_EVERY_MS = 60_000;

export function createLiveHub(opts: HubOptions) {
  const now = opts.now ?? Date.now;
  // Many clients connecting at once (say, after a deploy) share one overview query
  // for their hello. An update always starts a fresh query: one already running may
  // have begun before the data it announces landed.
  let running: Promise<Overview> | undefined;
  const freshOverview = () => {
    const p = opts.computeOverview();
    running = p;
    p.then(
      () => (running === p ? (running = undefined) : undefined),
      () => (running === p ? (running = undefined) : undefined),
    );
    return p;
  };
  const sharedOverview = () => running ?? freshOverview();
  const clients = new Set<Client>();
  let pending: NodeJS.Timeout | undefined;
  // Traces of the writes coalesced into the pending update (tracing on only), linked from its span.
  let coalesced: SpanContext[] = [];
  let lastSentAt = -Infinity;
  let closed = false;

  function drop(c: Client, reason: 'slow' | 'dead') {
    clients.delete(c);
    opts.onDrop?.(reason);
    opts.log.info({ reason, clients: clients.size }, 'dropping websocket client');
    c.socket.terminate();
  }

  /** Sends a message to every client; never awaits a socket. */
  function broadcast(message: ServerMessage, to: (c: Client) => boolean = () => true) {
    // Encoded once: a string would be UTF-8 encoded again for every socket. No send
    // callback: a failed socket emits 'error'/'close', which remove the client, and a
    // callback per send costs a tick per client (measured in `npm run bench`).
    const bytes = Buffer.from(JSON.stringify(message));
    let sent = 0;
    for (const c of clients) {
      if (c.socket.readyState !== c.socket.OPEN || !to(c)) continue;
      if (c.socket.bufferedAmount > opts.maxBufferedBytes) {
        drop(c, 'slow');
        continue;
      }
      c.socket.send(bytes, TEXT_FRAME);
      sent++;
    }
    opts.onSent?.(message.type, sent);
  }

  // Runs in the trace context of the data_landed that scheduled it (the timer keeps it), so
  // ingest → store → bus → broadcast is one trace; the writes coalesced into it are linked.
  async function sendUpdate() {
    pending = undefined;
    const links = coalesced;
    coalesced = [];
    if (closed) return;
    // Nobody to send it to: no query. A client that connects later computes its hello then.
    // (An idle replica on InfluxDB ran the overview's statements on every landing, every few
    // seconds, beside the requests it did answer.)
    if (clients.size === 0) return;
    lastSentAt = now();
    try {
      const data = await freshOverview();
      if (!closed) inSpan('ws.broadcast metrics_update', { attributes: { 'ws.clients': clients.size }, links }, () => broadcast({ type: 'metrics_update', data }));
    } catch (err) {
      // The next landed data tries again; clients keep their last numbers meanwhile.
      opts.log.warn({ err }, 'could not compute the overview for metrics_update');
    }
  }

  /** Called when new data has landed. */
  function dataLanded() {
    if (closed) return;
    if (pending) {
      const c = currentSpanContext();
      if (c && coalesced.length < MAX_LINKS) coalesced.push(c);
      return;
    }
    const wait = Math.max(0, lastSentAt + opts.coalesceMs - now());
    pending = setTimeout(sendUpdate, wait);
  }

  const pinger = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        drop(c, 'dead');
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, opts.pingIntervalMs);
  pinger.unref();

  // Fixed ticks, not per client: one encoding per tick, and a client joins the next one after
  // its hello (at most one interval later), so no gap between two messages exceeds an interval.
  const heartbeat = setInterval(() => {
    if (clients.size === 0) return;
    broadcast({ type: 'heartbeat', data: { serverTime: new Date(now()).toISOString(), intervalMs: opts.heartbeatIntervalMs } }, (c) => c.greeted);
  }, opts.heartbeatIntervalMs);
  heartbeat.unref();

  let refusedSinceLog = 0;
  let lastRefusalLogAt = -Infinity;
  function refuse(socket: WebSocket) {
    opts.onRefuse?.();
    refusedSinceLog++;
    if (now() - lastRefusalLogAt >= REFUSAL_LOG_EVERY_MS) {
      opts.log.warn(
        { refused: refusedSinceLog, clients: clients.size, maxClients: opts.maxClients },
        'refusing websocket clients: WS_MAX_CLIENTS are connected (close 1013); raise it or add replicas',
      );
      lastRefusalLogAt = now();
      refusedSinceLog = 0;
    }
    socket.on('error', (err) => opts.log.debug({ err }, 'websocket error on a refused client'));
    // At most 123 bytes of reason: the browser shows it, the dashboard says "server full".
    socket.close(WS_CLOSE_TRY_AGAIN_LATER, `server full: ${opts.maxClients} live clients (WS_MAX_CLIENTS); retry later`);
    const cut = setTimeout(() => socket.terminate(), REFUSED_CLOSE_TIMEOUT_MS);
    cut.unref();
    socket.once('close', () => clearTimeout(cut));
  }

  async function addClient(socket: WebSocket) {
    if (closed || clients.size >= opts.maxClients) {
      if (closed) socket.close(1001, 'server shutting down');
      else refuse(socket);
      return;
    }
    const c: Client = { socket, alive: true, greeted: false };
    clients.add(c);
    socket.on('pong', () => {
      c.alive = true;
    });
    socket.on('close', () => clients.delete(c));
    socket.on('error', (err) => {
      opts.log.debug({ err }, 'websocket error');
      clients.delete(c);
    });
    // Clients only listen; anything they send is ignored.
    try {
      const data = await sharedOverview();
      if (socket.readyState === socket.OPEN) {
        const hello = { serverTime: new Date(now()).toISOString(), overview: data, heartbeatIntervalMs: opts.heartbeatIntervalMs };
        socket.send(JSON.stringify({ type: 'hello', data: hello } satisfies ServerMessage));
      }
    } catch (err) {
      opts.log.warn({ err }, 'could not compute the overview for a new client; it gets the next metrics_update');
    } finally {
      c.greeted = true;
    }
  }

  return {
    addClient,
    dataLanded,
    broadcast,
    clientCount: () => clients.size,
    close() {
      closed = true;
      clearInterval(pinger);
      clearInterval(heartbeat);
      if (pending) clearTimeout(pending);
      for (const c of clients) c.socket.close(1001, 'server shutting down');
      clients.clear();
    },
  };
}
