/**
 * The Bus port: how parts of the server learn that something happened (new data
 * landed) without knowing each other. In-process here; a Redis adapter can carry
 * the same events across replicas.
 */
import type { Alert } from '@edgeworker/schema';

export type BusEvent =
  /**
   * `earliestMs`: the oldest sample's time, when the publisher knows it (the server's own
   * ingest does; the watermark poller and replicas of an older version do not). It lets the
   * detector see a backfill land behind what it has already read.
   * `pops`: the distinct POP codes of the batch (at most LANDED_POPS_MAX; absent when the
   * publisher does not know them or there were more): late data then makes the detector
   * re-derive only those POPs' series. Absent means "any POP" (a full re-derive).
   */
  | { type: 'data_landed'; points: number; latestMs: number; earliestMs?: number; pops?: string[] }
  /** An alert was created or changed state; every replica's WebSocket clients get it. */
  | { type: 'alert'; alert: Alert }
  /**
   * This replica's subscription to the other replicas' events is back after it was lost (the
   * Redis bus's subscriber connection dropped, or Redis went away), for `downForMs`. Local only,
   * never sent across: whatever the others announced meanwhile (late data, new data) was not
   * heard here, so a listener that keeps state built from announcements treats it as "anything
   * may have landed".
   */
  | { type: 'bus_resumed'; downForMs: number };

/**
 * Most POPs a `data_landed` names. A batch of more (a backfill of every POP, a catch-up after an
 * outage of the whole pipeline) is announced without a list. 256 POPs are 60 % of the built-in
 * catalogue's 423, about where re-deriving them one by one stops costing less than a full
 * re-derive at 2,115 series (the detector decides by its own share: late-rederives.ts); the event
 * stays small on the Redis bus: 1.6 KB with 3-letter codes, 2.4 KB with 6-character ones (64 POPs:
 * 0.5 / 0.7 KB; 512: 3.4 / 4.7 KB). A replica of an older version drops a list of more than 64 and
 * re-derives all (the safe side).
 */
export const LANDED_POPS_MAX = 256;

/** The `pops` field of a `data_landed` for a batch's POP codes: distinct, or undefined when there are more than LANDED_POPS_MAX. */
export function landedPops(codes: Iterable<string>): string[] | undefined {
  const out = new Set<string>();
  for (const c of codes) {
    out.add(c);
    if (out.size > LANDED_POPS_MAX) return undefined;
  }
  return [...out];
}

export interface Bus {
  publish(event: BusEvent): void;
  subscribe(listener: (event: BusEvent) => void): () => void;
}

export function createLocalBus(onListenerError?: (err: unknown) => void): Bus {
  const listeners = new Set<(event: BusEvent) => void>();
  return {
    publish(event) {
      for (const l of listeners) {
        try {
          l(event);
        } catch (err) {
          // One broken subscriber must not stop the others (or the write that published).
          onListenerError?.(err);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
