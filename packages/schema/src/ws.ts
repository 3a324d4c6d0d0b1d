/** WebSocket messages (server -> client) on /ws, shared by server and dashboard. */
import type { Overview } from './api.ts';
import type { Alert } from './alert.ts';

/**
 * Sent once right after a client connects, so it can render without waiting for new data.
 * `heartbeatIntervalMs` (added with `heartbeat`): how often this server sends a `heartbeat`, so a
 * client can tell a silent server from a quiet one; absent from servers that send none.
 */
export interface HelloMessage {
  type: 'hello';
  data: { serverTime: string; overview: Overview; heartbeatIntervalMs?: number };
}

/** Sent when new data has landed, coalesced to at most one per second. */
export interface MetricsUpdateMessage {
  type: 'metrics_update';
  data: Overview;
}

/** Sent when an alert is created or changes state (acknowledged, resolved, severity or value update). */
export interface AlertMessage {
  type: 'alert';
  data: Alert;
}

/**
 * Sent to every client every `intervalMs` (WS_HEARTBEAT_INTERVAL_MS), whether or not data
 * landed, from the first tick after its hello. A client that hears nothing at all (no message of
 * any type) for a few intervals is talking to a stopped or hung server: its TCP connection may
 * stay open for ever, and the protocol's own ping frames are invisible to browser code.
 */
export interface HeartbeatMessage {
  type: 'heartbeat';
  data: { serverTime: string; intervalMs: number };
}

export type ServerMessage = HelloMessage | MetricsUpdateMessage | AlertMessage | HeartbeatMessage;

/**
 * The close code /ws refuses a connection with when the server already holds WS_MAX_CLIENTS live
 * clients (RFC 6455's registry: 1013 "Try Again Later"). The handshake completes first and the
 * close follows at once, with no message: a browser cannot read the HTTP status of a refused
 * upgrade (it only sees 1006), but it can read a close code and its reason.
 */
export const WS_CLOSE_TRY_AGAIN_LATER = 1013;
