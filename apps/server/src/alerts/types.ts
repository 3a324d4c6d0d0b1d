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

/** Something that reported steadily went silent: one series, a POP (functionName '*'), or all ingest (popCode '*'). */
export interface NoDataFinding {
  popCode: string;
  functionName: string;
  severity: AlertSeverity;
  /** Typical cold start before the silence, ms (0 when the finding covers several series). */
  baselineMs: number;
  /** Epoch ms of the newest sample before the silence. */
  lastSeenMs: number;
  /** Series that went silent (POP and pipeline findings). */
  silentSeries?: number;
}

export interface AlertService {
  /**
   * Opens an alert for the pair, or refreshes the unresolved one (current value,
   * severity). Notifies only when it creates one.
   */
  raise(finding: RegressionFinding): Promise<{ alert: Alert; created: boolean }>;
  /** Opens a no_data alert for the pair unless one is unresolved (silence has nothing to refresh). Notifies when it opens. */
  raiseNoData(finding: NoDataFinding): Promise<{ alert: Alert; created: boolean }>;
  /** Resolves an unresolved alert: by the detector (back at baseline) or by an operator. Notifies. */
  resolve(id: string, by: 'detector' | 'operator'): Promise<Alert>;
  /** open -> acknowledged. */
  acknowledge(id: string): Promise<Alert>;
  get(id: string): Promise<Alert>;
  list(query: AlertQuery): Promise<AlertPage>;
  listUnresolved(): Promise<Alert[]>;
  /** Unresolved alerts (open + acknowledged), of one type when given: the overview's `regressions` counts type regression. */
  countUnresolved(type?: AlertType): Promise<number>;
}
