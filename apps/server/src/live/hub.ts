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
 */
import type { SpanContext } from '@opentelemetry/api';
import { currentSpanContext, inSpan } from '../telemetry/spans.ts';
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import type { Overview, ServerMessage } from '@edgeworker/schema';

export interface HubOptions {
  computeOverview: () => Promise<Overview>;
  coalesceMs: number;
  pingIntervalMs: number;
  maxBufferedBytes: number;
  log: Logger;
  now?: () => number;
  onDrop?: (reason: 'slow' | 'dead') => void;
  onSent?: (type: string, clients: number) => void;
}

export type LiveHub = ReturnType<typeof createLiveHub>;

const MAX_LINKS = 32;
/** Bytes sent as a text frame, as the clients expect JSON text. */
const TEXT_FRAME = { binary: false } as const;

interface Client {
  socket: WebSocket;
  alive: boolean;
}

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
  function broadcast(message: ServerMessage) {
    // Encoded once: a string would be UTF-8 encoded again for every socket. No send
    // callback: a failed socket emits 'error'/'close', which remove the client, and a
    // callback per send costs a tick per client (measured in `npm run bench`).
    const bytes = Buffer.from(JSON.stringify(message));
    let sent = 0;
    for (const c of clients) {
      if (c.socket.readyState !== c.socket.OPEN) continue;
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

  async function addClient(socket: WebSocket) {
    const c: Client = { socket, alive: true };
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
        socket.send(JSON.stringify({ type: 'hello', data: { serverTime: new Date(now()).toISOString(), overview: data } } satisfies ServerMessage));
      }
    } catch (err) {
      opts.log.warn({ err }, 'could not compute the overview for a new client; it gets the next metrics_update');
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
      if (pending) clearTimeout(pending);
      for (const c of clients) c.socket.close(1001, 'server shutting down');
      clients.clear();
    },
  };
}
