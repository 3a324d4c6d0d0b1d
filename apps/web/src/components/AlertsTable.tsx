import type { Alert } from '@edgeworker/schema';
import { ALERT_STATUS_GLYPH, ALERT_STATUS_LABEL, ALERT_TYPE_LABEL, formatChange } from '../lib/alerts';
import { formatAgo, formatMs } from '../lib/format';
import { useNow } from '../hooks/useNow';

/** The popCode of a no_data alert for a function silent everywhere, or for the pipeline (the schema's ALL). */
const EVERY_POP = '*';

interface Props {
  alerts: readonly Alert[];
  busy: ReadonlySet<string>;
  onAct: (id: string, action: 'acknowledge' | 'resolve') => void;
  /** Opens the POP's drill-down; left out where the POP is already shown. */
  onOpenPop?: (code: string) => void;
  empty: string;
  /** For the narrow drill-down: the POP is known, so fewer columns (function, now vs baseline, actions). */
  compact?: boolean;
}

/** Alerts with their numbers and the actions their state allows (acknowledge when open, resolve until resolved). */
export function AlertsTable({ alerts, busy, onAct, onOpenPop, empty, compact = false }: Props) {
  const now = useNow(10_000);
  if (alerts.length === 0) return <p className="empty">{empty}</p>;
  if (compact) return <CompactAlerts alerts={alerts} busy={busy} onAct={onAct} now={now} />;
  // Below 900 px each row is laid out as a card (styles.css, "alerts on a phone"): the cells keep
  // their header association, and each number shows its column's name (data-label). The roles
  // restate the table's own: a browser may drop a table's semantics once CSS changes its display.
  return (
    <div className="table-scroll alerts-scroll">
      <table className="data-table alerts-table" data-testid="alerts-table" role="table">
        <thead role="rowgroup">
          <tr role="row">
            <th scope="col" role="columnheader">State</th>
            <th scope="col" role="columnheader">POP · function</th>
            <th scope="col" role="columnheader">Type</th>
            <th scope="col" role="columnheader">Severity</th>
            <th scope="col" role="columnheader" className="num">Baseline</th>
            <th scope="col" role="columnheader" className="num">Now</th>
            <th scope="col" role="columnheader" className="num">Change</th>
            <th scope="col" role="columnheader" className="col-since">Since</th>
            <th scope="col" role="columnheader">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody role="rowgroup">
          {alerts.map((a) => {
            const working = busy.has(a.id);
            return (
              <tr key={a.id} role="row" data-alert-id={a.id} data-alert-status={a.status} data-alert-pop={a.popCode}>
                <td role="cell" className="alert-state-cell">
                  <span className={`alert-state alert-${a.status}`}>
                    <span aria-hidden="true">{ALERT_STATUS_GLYPH[a.status]}</span> {ALERT_STATUS_LABEL[a.status]}
                  </span>
                </td>
                <th scope="row" role="rowheader" className="alert-subject">
                  {onOpenPop && a.popCode !== EVERY_POP ? (
                    <a
                      className="link mono"
                      href={`?pop=${encodeURIComponent(a.popCode)}`}
                      onClick={(ev) => {
                        if (ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.button !== 0) return; // new tab: let the browser
                        ev.preventDefault();
                        onOpenPop(a.popCode);
                      }}
                    >
                      {a.popCode}
                    </a>
                  ) : (
                    // A function silent everywhere, or the pipeline: no one POP to open.
                    <span className="mono">{a.popCode === EVERY_POP ? 'every POP' : a.popCode}</span>
                  )}{' '}
                  <span className="mono muted">{a.functionName}</span>
                </th>
                <td role="cell" className="alert-type" data-alert-type={a.type}>
                  {ALERT_TYPE_LABEL[a.type]}
                </td>
                <td role="cell" className="alert-severity">
                  <span className={`severity severity-${a.severity}`}>
                    <span aria-hidden="true">{a.severity === 'critical' ? '◆' : '▲'}</span> {a.severity}
                  </span>
                </td>
                {a.type === 'no_data' ? (
                  <td role="cell" className="num alert-no-data" colSpan={3} data-testid="alert-no-data">
                    no data{a.lastSeenAt ? ` since ${formatAgo(Date.parse(a.lastSeenAt), now)}` : ''}
                    {a.silentSeries ? ` · ${a.silentSeries} series` : ''}
                  </td>
                ) : (
                  <>
                    <td role="cell" className="num alert-baseline" data-label="Baseline">
                      {formatMs(a.baselineMs)}
                    </td>
                    <td role="cell" className="num alert-now" data-label="Now">
                      {formatMs(a.currentMs)}
                    </td>
                    <td role="cell" className="num alert-change">
                      {formatChange(a.changePct)}
                    </td>
                  </>
                )}
                <td role="cell" className="col-since" title={a.createdAt} data-label="Since">
                  {formatAgo(Date.parse(a.createdAt), now)}
                </td>
                <td role="cell" className="actions">
                  <div className="actions-inner">
                    <AlertActions alert={a} working={working} onAct={onAct} />
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function AlertActions({ alert: a, working, onAct }: { alert: Alert; working: boolean; onAct: Props['onAct'] }) {
  return (
    <>
      {a.status === 'open' && (
        <button type="button" className="button" disabled={working} onClick={() => onAct(a.id, 'acknowledge')}>
          Acknowledge
        </button>
      )}
      {a.status !== 'resolved' && (
        <button type="button" className="button-quiet" disabled={working} onClick={() => onAct(a.id, 'resolve')}>
          Resolve
        </button>
      )}
    </>
  );
}

function CompactAlerts({ alerts, busy, onAct, now }: Omit<Props, 'empty' | 'compact'> & { now: number }) {
  return (
    <ul className="alert-cards" data-testid="alerts-table">
      {alerts.map((a) => (
        <li key={a.id} className="alert-card" data-alert-id={a.id} data-alert-status={a.status} data-alert-pop={a.popCode}>
          <div className="alert-card-main">
            <span className={`alert-state alert-${a.status}`}>
              <span aria-hidden="true">{ALERT_STATUS_GLYPH[a.status]}</span> {ALERT_STATUS_LABEL[a.status]}
            </span>
            <span className="mono">{a.functionName}</span>
            <span className={`severity severity-${a.severity}`}>
              <span aria-hidden="true">{a.severity === 'critical' ? '◆' : '▲'}</span> {a.severity}
            </span>
          </div>
          <div className="alert-card-numbers muted">
            {a.type === 'no_data'
              ? `no data${a.lastSeenAt ? ` since ${formatAgo(Date.parse(a.lastSeenAt), now)}` : ''}`
              : `${formatMs(a.currentMs)} vs ${formatMs(a.baselineMs)} (${formatChange(a.changePct)})`}{' '}
            · {formatAgo(Date.parse(a.createdAt), now)}
          </div>
          <div className="actions">
            <AlertActions alert={a} working={busy.has(a.id)} onAct={onAct} />
          </div>
        </li>
      ))}
    </ul>
  );
}
