import type { HeatmapEntry } from '@edgeworker/schema';
import { formatInt, formatMs } from '../lib/format';
import { STATUS_GLYPH, STATUS_LABEL, safeStatus } from '../lib/status';
import { functionPairs, pairFor, pairText, type ThresholdSet } from '../lib/thresholds';

interface Props {
  entry: HeatmapEntry;
  /** Anchor in pixels relative to the map stage. */
  x: number;
  y: number;
  /** Stage width, to flip the tooltip left near the right edge. */
  stageWidth: number;
  thresholds: ThresholdSet | null;
  /** The function filter, if any. */
  fn: string | null;
}

/** What a hovered or focused POP marker shows: place, tier, status, mean, p95 and samples. */
export function MapTooltip({ entry: e, x, y, stageWidth, thresholds, fn }: Props) {
  const s = safeStatus(e.status);
  const flip = x > stageWidth - 230;
  return (
    <div
      className="map-tooltip"
      role="tooltip"
      id="map-tooltip"
      data-testid="map-tooltip"
      style={{ left: x, top: y, transform: `translate(${flip ? 'calc(-100% - 12px)' : '12px'}, -50%)` }}
    >
      <div className="tt-head">
        <strong className="mono">{e.popCode}</strong> {e.city}, {e.country}
      </div>
      <div className={`tt-status badge badge-${s}`}>
        <span aria-hidden="true">{STATUS_GLYPH[s]}</span> {STATUS_LABEL[s]} · {e.tier}
      </div>
      <dl className="tt-grid">
        <dt>Mean</dt>
        <dd>{formatMs(e.coldStartTime)}</dd>
        <dt>p95</dt>
        <dd>{formatMs(e.p95)}</dd>
        <dt>Samples</dt>
        <dd>{formatInt(e.samples)}</dd>
        {thresholds && fn && (
          <>
            <dt>Warn / crit</dt>
            <dd data-testid="tt-thresholds">{pairText(pairFor(thresholds, fn))}</dd>
          </>
        )}
      </dl>
      {thresholds && !fn && (
        <div className="tt-thresholds muted" data-testid="tt-thresholds">
          {s === 'no_data' && e.samples > 0 ? 'silent: no recent samples · ' : ''}worst of its functions; warn / crit:
          <ul>
            {functionPairs(thresholds).map(([name, p]) => (
              <li key={name}>
                <span className="mono">{name}</span> {pairText(p)}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
