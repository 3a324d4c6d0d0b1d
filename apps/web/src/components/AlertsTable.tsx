import type { Alert } from '@edgeworker/schema';
import { ALERT_STATUS_GLYPH, ALERT_STATUS_LABEL, formatChange } from '../lib/alerts';
import { formatAgo, formatMs } from '../lib/format';
import { useNow } from '../hooks/useNow';

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
  return (
    <div className="table-scroll">
      <table className="data-table alerts-table" data-testid="alerts-table">
        <thead>
          <tr>
            <th scope="col">State</th>
            <th scope="col">POP · function</th>
            <th scope="col">Severity</th>
            <th scope="col" className="num">Baseline</th>
            <th scope="col" className="num">Now</th>
            <th scope="col" className="num">Change</th>
            <th scope="col" className="col-since">Since</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => {
            const working = busy.has(a.id);
            return (
              <tr key={a.id} data-alert-id={a.id} data-alert-status={a.status} data-alert-pop={a.popCode}>
                <td>
                  <span className={`alert-state alert-${a.status}`}>
                    <span aria-hidden="true">{ALERT_STATUS_GLYPH[a.status]}</span> {ALERT_STATUS_LABEL[a.status]}
                  </span>
                </td>
                <th scope="row" className="alert-subject">
                  {onOpenPop ? (
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
                    <span className="mono">{a.popCode}</span>
                  )}{' '}
                  <span className="mono muted">{a.functionName}</span>
                </th>
                <td>
                  <span className={`severity severity-${a.severity}`}>
                    <span aria-hidden="true">{a.severity === 'critical' ? '◆' : '▲'}</span> {a.severity}
                  </span>
                </td>
                {a.type === 'no_data' ? (
                  <td className="num" colSpan={3} data-testid="alert-no-data">
                    no data{a.lastSeenAt ? ` since ${formatAgo(Date.parse(a.lastSeenAt), now)}` : ''}
                    {a.silentSeries ? ` · ${a.silentSeries} series` : ''}
                  </td>
                ) : (
                  <>
                    <td className="num">{formatMs(a.baselineMs)}</td>
                    <td className="num">{formatMs(a.currentMs)}</td>
                    <td className="num">{formatChange(a.changePct)}</td>
                  </>
                )}
                <td className="col-since" title={a.createdAt}>
                  {formatAgo(Date.parse(a.createdAt), now)}
                </td>
                <td className="actions">
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
