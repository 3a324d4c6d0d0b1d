/** WebSocket messages (server -> client) on /ws, shared by server and dashboard. */
import type { Overview } from './api.ts';
import type { Alert } from './alert.ts';

/** Sent once right after a client connects, so it can render without waiting for new data. */
export interface HelloMessage {
  type: 'hello';
  data: { serverTime: string; overview: Overview };
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

export type ServerMessage = HelloMessage | MetricsUpdateMessage | AlertMessage;
