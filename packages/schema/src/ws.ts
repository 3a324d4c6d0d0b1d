/** WebSocket messages (server -> client) on /ws, shared by server and dashboard. */
import type { Overview } from './api.ts';

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

export type ServerMessage = HelloMessage | MetricsUpdateMessage;
