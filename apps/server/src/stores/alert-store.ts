/**
 * The alert-store port. Adapters: embedded (a file in DATA_DIR) and MongoDB.
 * One contract suite (alert-store.contract.ts) runs against each. The store
 * enforces "at most one unresolved alert per (type, POP, function)" itself, so two
 * writers racing cannot both open one.
 */
import type { Alert, AlertStatus, AlertType, NotificationOutcome } from '@edgeworker/schema';

export interface AlertQuery {
  status?: AlertStatus | undefined;
  type?: AlertType | undefined;
  popCode?: string | undefined;
  functionName?: string | undefined;
  /** Page size; adapters cap it. */
  limit?: number | undefined;
  /** Opaque cursor from the previous page's `next`. */
  cursor?: string | undefined;
}

export interface AlertPage {
  alerts: Alert[];
  /** Cursor of the next page, or null on the last one. Newest first (createdAt desc, id desc). */
  next: string | null;
  /** Number of alerts matching the filters (all pages). */
  total: number;
}

export class AlertConflictError extends Error {
  override name = 'AlertConflictError';
}

export interface AlertStore {
  readonly kind: string;
  /**
   * Inserts a new unresolved alert. Throws AlertConflictError when the (POP,
   * function) pair already has an unresolved one.
   */
  create(alert: Alert): Promise<void>;
  get(id: string): Promise<Alert | null>;
  /** The unresolved (open or acknowledged) alert of a pair and type (default regression), if any. */
  findUnresolved(popCode: string, functionName: string, type?: AlertType): Promise<Alert | null>;
  /** Every unresolved alert (the detector's working set). */
  listUnresolved(): Promise<Alert[]>;
  list(query: AlertQuery): Promise<AlertPage>;
  /** Unresolved alerts, of one type when given. */
  countUnresolved(type?: AlertType): Promise<number>;
  /**
   * Replaces the stored alert with the same id when its current updatedAt equals
   * `expectedUpdatedAt` (optimistic concurrency); returns false when it changed meanwhile.
   * Keeps the stored `notifications` (they belong to addNotifications, which does not
   * change updatedAt), so an update from an older copy never drops an outcome.
   */
  update(alert: Alert, expectedUpdatedAt: string): Promise<boolean>;
  /** Appends notification outcomes without touching anything else. */
  addNotifications(id: string, outcomes: NotificationOutcome[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
