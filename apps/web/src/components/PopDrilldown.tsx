import { useEffect, useId, useRef } from 'react';
import type { Alert, FunctionInfo } from '@edgeworker/schema';
import { useAlerts } from '../hooks/useAlerts';
import { usePopDetail } from '../hooks/usePopDetail';
import { useTimeseries } from '../hooks/useTimeseries';
import { useEscape } from '../hooks/useEscape';
import { formatInt, formatMs } from '../lib/format';
import { rangeById } from '../lib/ranges';
import type { Theme } from '../lib/theme';
import { AlertsTable } from './AlertsTable';
import { FunctionStatsTable } from './FunctionStatsTable';
import { RangeSelector } from './RangeSelector';
import { StatusBadge } from './StatusBadge';
import { TimeseriesChart } from './TimeseriesChart';

interface Props {
  code: string;
  fn: string | null;
  onFn: (fn: string | null) => void;
  functions: readonly FunctionInfo[];
  rangeId: string;
  onRange: (id: string) => void;
  /** Window of the POP's numbers and per-function table (the dashboard's window selector). */
  window: string;
  version: number;
  /** The pair judging the chart's series (see chartPair), or null when no single pair does. */
  thresholds: { warnMs: number; critMs: number } | null;
  theme: Theme;
  lastAlert: Alert | null;
  alertVersion: number;
  onClose: () => void;
}

/**
 * One POP in depth: facts, live aggregates, a time-series chart per function and range,
 * the per-function table and the POP's alerts. Mount it with `key={code}` so switching
 * POPs starts from a clean state.
 */
export function PopDrilldown(p: Props) {
  const { code, fn, version, thresholds, onClose } = p;
  const range = rangeById(p.rangeId);
  const detail = usePopDetail(code, p.window, version);
  const series = useTimeseries(code, fn, range, version);
  const alerts = useAlerts({ status: null, pop: code }, p.lastAlert, p.alertVersion);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const fnSelectId = useId();
  useEscape(onClose);

  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  const d = detail.data;
  const titleId = `drilldown-title-${code}`;
  // functions offered in the chart picker: the catalog plus any seen at this POP
  const fnNames = [...new Set([...p.functions.map((f) => f.name), ...(d?.functions.map((f) => f.functionName) ?? [])])];
  if (fn && !fnNames.includes(fn)) fnNames.push(fn);
  const unresolved = alerts.alerts.filter((a) => a.status !== 'resolved');

  return (
    <aside className="drilldown" aria-labelledby={titleId} data-testid="pop-drilldown" data-pop-detail={code}>
      <div className="drilldown-head">
        <div>
          <h2 id={titleId} ref={headingRef} tabIndex={-1}>
            {code}
            {d && (
              <span className="drilldown-place">
                {' '}
                · {d.pop.city}, {d.pop.country}
              </span>
            )}
          </h2>
          {d && (
            <p className="drilldown-facts">
              <StatusBadge status={d.status} /> · {d.pop.tier} · {d.pop.lat.toFixed(2)}°, {d.pop.lon.toFixed(2)}° ·{' '}
              {d.pop.source === 'catalog' ? 'catalog POP' : 'first seen in data'}
              {unresolved.length > 0 && (
                <span className="drilldown-alerts"> · ◆ {unresolved.length} unresolved alert{unresolved.length > 1 ? 's' : ''}</span>
              )}
            </p>
          )}
        </div>
        <button type="button" className="close" onClick={onClose} aria-label="Close POP details" title="Close (Esc)">
          ×
        </button>
      </div>

      {detail.error && (
        <p className="error" role="alert">
          {detail.error}
        </p>
      )}
      {!d && !detail.error && <p className="muted">Loading…</p>}

      {d && <p className="stats-caption">Last {d.window} · all functions</p>}
      {d && (
        <dl className="stats-grid" aria-label={`Last ${d.window}, all functions`}>
          <div>
            <dt>Mean</dt>
            <dd>{formatMs(d.coldStartTime)}</dd>
          </div>
          <div>
            <dt>p50</dt>
            <dd>{formatMs(d.p50)}</dd>
          </div>
          <div>
            <dt>p95</dt>
            <dd>{formatMs(d.p95)}</dd>
          </div>
          <div>
            <dt>p99</dt>
            <dd>{formatMs(d.p99)}</dd>
          </div>
          <div>
            <dt>Samples</dt>
            <dd>{formatInt(d.samples)}</dd>
          </div>
        </dl>
      )}

      <section className="drilldown-section">
        <div className="section-head">
          <h3>Cold start over time</h3>
          <div className="filter">
            <label htmlFor={fnSelectId}>Function</label>
            <select
              id={fnSelectId}
              data-testid="drilldown-function"
              value={fn ?? ''}
              onChange={(e) => p.onFn(e.target.value || null)}
            >
              <option value="">All functions</option>
              {fnNames.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </div>
          <RangeSelector value={range.id} onChange={p.onRange} />
        </div>
        {series.error && (
          <p className="error" role="alert">
            {series.error}
          </p>
        )}
        <TimeseriesChart data={series.data} thresholds={thresholds} theme={p.theme} />
        <p className="chart-note muted" data-testid="chart-thresholds">
          {thresholds
            ? `Dashed: warn / crit${fn ? ` of ${fn}` : ''}, ${thresholds.warnMs} / ${thresholds.critMs} ms`
            : 'Each function has its own warn / crit: pick one to see its lines.'}
        </p>
      </section>

      <section className="drilldown-section" data-testid="drilldown-alerts">
        <h3>
          Alerts <span className="muted">· this POP, newest first</span>
        </h3>
        {alerts.error && (
          <p className="error" role="alert">
            Alerts could not be loaded: {alerts.error}
          </p>
        )}
        {alerts.actionError && (
          <p className="error" role="alert">
            {alerts.actionError}
          </p>
        )}
        <AlertsTable alerts={alerts.alerts.slice(0, 20)} busy={alerts.busy} onAct={alerts.act} empty="No alerts for this POP." compact />
      </section>

      {d && (
        <section className="drilldown-section">
          <h3>
            Functions <span className="muted">· last {d.window}</span>
          </h3>
          <FunctionStatsTable functions={d.functions} highlight={fn} />
        </section>
      )}
    </aside>
  );
}
