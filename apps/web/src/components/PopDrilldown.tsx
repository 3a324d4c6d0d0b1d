import { useEffect, useRef, useState } from 'react';
import { usePopDetail } from '../hooks/usePopDetail';
import { useTimeseries } from '../hooks/useTimeseries';
import { useEscape } from '../hooks/useEscape';
import { formatInt, formatMs } from '../lib/format';
import { DEFAULT_RANGE_ID, LIVE_WINDOW, rangeById } from '../lib/ranges';
import { FunctionStatsTable } from './FunctionStatsTable';
import { RangeSelector } from './RangeSelector';
import { StatusBadge } from './StatusBadge';
import { TimeseriesChart } from './TimeseriesChart';

interface Props {
  code: string;
  fn: string | null;
  version: number;
  thresholds: { warnMs: number; critMs: number } | null;
  onClose: () => void;
}

/**
 * One POP in depth: facts, live aggregates, per-function table and a time-series chart.
 * Mount it with `key={code}` so switching POPs starts from a clean state.
 */
export function PopDrilldown({ code, fn, version, thresholds, onClose }: Props) {
  const [rangeId, setRangeId] = useState(DEFAULT_RANGE_ID);
  const range = rangeById(rangeId);
  const detail = usePopDetail(code, LIVE_WINDOW, version);
  const series = useTimeseries(code, fn, range, version);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEscape(onClose);

  useEffect(() => {
    headingRef.current?.focus();
  }, []);

  const d = detail.data;
  const titleId = `drilldown-title-${code}`;
  return (
    <aside className="drilldown" aria-labelledby={titleId} data-testid="pop-drilldown" data-pop={code}>
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
          <h3>
            Cold start over time <span className="muted">· {fn ?? 'all functions'}</span>
          </h3>
          <RangeSelector value={rangeId} onChange={setRangeId} />
        </div>
        {series.error && (
          <p className="error" role="alert">
            {series.error}
          </p>
        )}
        <TimeseriesChart data={series.data} thresholds={thresholds} />
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
