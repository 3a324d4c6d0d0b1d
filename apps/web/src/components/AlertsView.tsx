import type { Alert, AlertStatus } from '@edgeworker/schema';
import { useAlerts } from '../hooks/useAlerts';
import { ALERT_STATUSES, ALERT_STATUS_GLYPH, ALERT_STATUS_LABEL } from '../lib/alerts';
import { AlertsTable } from './AlertsTable';

interface Props {
  status: AlertStatus;
  onStatus: (s: AlertStatus) => void;
  lastAlert: Alert | null;
  alertVersion: number;
  onOpenPop: (code: string) => void;
}

const EMPTY: Record<AlertStatus, string> = {
  open: 'No open alerts: every series is within its baseline.',
  acknowledged: 'No acknowledged alerts.',
  resolved: 'No resolved alerts yet.',
};

/** Regression alerts by state, with acknowledge and resolve, and a link to each POP. */
export function AlertsView({ status, onStatus, lastAlert, alertVersion, onOpenPop }: Props) {
  const list = useAlerts({ status, pop: null }, lastAlert, alertVersion);
  return (
    <section className="panel alerts-view" aria-labelledby="alerts-title" data-testid="alerts-view">
      <div className="panel-head">
        <h2 id="alerts-title">Alerts</h2>
        <div className="segmented" role="group" aria-label="Alert state">
          {ALERT_STATUSES.map((s) => (
            <button
              key={s}
              type="button"
              data-alert-tab={s}
              aria-pressed={s === status}
              className={s === status ? 'active' : undefined}
              onClick={() => onStatus(s)}
            >
              <span aria-hidden="true">{ALERT_STATUS_GLYPH[s]}</span> {ALERT_STATUS_LABEL[s]}
            </button>
          ))}
        </div>
        {list.total !== null && <span className="panel-sub">{list.total} in total</span>}
      </div>
      {list.error && (
        <p className="error" role="alert">
          Alerts could not be loaded: {list.error}
        </p>
      )}
      {list.actionError && (
        <p className="error" role="alert" data-testid="alert-action-error">
          {list.actionError}
        </p>
      )}
      {list.loading ? (
        <p className="muted">Loading…</p>
      ) : (
        <AlertsTable alerts={list.alerts} busy={list.busy} onAct={list.act} onOpenPop={onOpenPop} empty={EMPTY[status]} />
      )}
    </section>
  );
}
