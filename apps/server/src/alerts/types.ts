/**
 * What the rest of the server sees of alerts. The detector raises findings and
 * resolves alerts through this service; routes list, acknowledge and resolve;
 * the service keeps the store, the bus (WebSocket fan-out) and the notifiers in step.
 */
import type { Alert, AlertSeverity, AlertType } from '@edgeworker/schema';
import type { AlertPage, AlertQuery } from '../stores/alert-store.ts';

/** A sustained regression of one (POP, function) series, as the detector found it. */
export interface RegressionFinding {
  popCode: string;
  functionName: string;
  severity: AlertSeverity;
  /** Median of the baseline window, ms. */
  baselineMs: number;
  /** Median of the recent window, ms. */
  currentMs: number;
  /** (current - baseline) / baseline * 100. */
  changePct: number;
}

/**
 * Checked right before every store write of a detector change: false means this replica
 * no longer leads (another took the lock, with a larger fencing token), so it must
 * commit nothing more.
 */
export type Fence = () => Promise<boolean>;

/** A write refused because the fence said this replica no longer leads. */
export class LeadershipLostError extends Error {
  override name = 'LeadershipLostError';
}

/** Something that reported steadily went silent: one series, a POP (functionName '*'), a function everywhere (popCode '*'), or all ingest (both '*'). */
export interface NoDataFinding {
  popCode: string;
  functionName: string;
  severity: AlertSeverity;
  /** Typical cold start before the silence, ms (0 when the finding covers several series). */
  baselineMs: number;
  /** Epoch ms of the newest sample before the silence. */
  lastSeenMs: number;
  /** Series that went silent (POP, function and pipeline findings). */
  silentSeries?: number;
}

export interface AlertService {
  /**
   * Opens an alert for the pair, or refreshes the unresolved one (current value,
   * severity). Notifies only when it creates one. With a fence, each write checks it
   * first and a lost one throws LeadershipLostError with nothing written.
   */
  raise(finding: RegressionFinding, fence?: Fence): Promise<{ alert: Alert; created: boolean }>;
  /** Opens a no_data alert for the pair unless one is unresolved (silence has nothing to refresh). Notifies when it opens. Fenced like raise. */
  raiseNoData(finding: NoDataFinding, fence?: Fence): Promise<{ alert: Alert; created: boolean }>;
  /** Resolves an unresolved alert: by the detector (back at baseline) or by an operator. Notifies. Fenced like raise. */
  resolve(id: string, by: 'detector' | 'operator', fence?: Fence): Promise<Alert>;
  /** open -> acknowledged. */
  acknowledge(id: string): Promise<Alert>;
  get(id: string): Promise<Alert>;
  list(query: AlertQuery): Promise<AlertPage>;
  listUnresolved(): Promise<Alert[]>;
  /** Unresolved alerts (open + acknowledged), of one type when given: the overview's `regressions` counts type regression. */
  countUnresolved(type?: AlertType): Promise<number>;
}
