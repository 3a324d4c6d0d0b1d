import { memo, type KeyboardEvent } from 'react';
import type { HeatmapEntry } from '@edgeworker/schema';
import { formatInt, formatMs } from '../lib/format';
import { STATUS_LABEL, safeStatus } from '../lib/status';
import { StatusShape } from './StatusShape';

interface Props {
  entry: HeatmapEntry;
  x: number;
  y: number;
  r: number;
  /** Radius of the invisible hit area, so small markers stay easy to click and tap. */
  hitR: number;
  selected: boolean;
  /** The map's one tab stop (the others are reached with the arrow keys, see WorldMap). */
  tabbable: boolean;
  onSelect: (code: string) => void;
  /** Hover or keyboard focus entered (code) or left (null): drives the map tooltip. */
  onHover: (code: string | null) => void;
}

/** One POP on the map: a focusable button with a status shape; hover or focus shows the map tooltip. */
export const PopMarker = memo(function PopMarker({ entry: e, x, y, r, hitR, selected, tabbable, onSelect, onHover }: Props) {
  const status = safeStatus(e.status);
  const place = `${e.city}, ${e.country}`;
  const onKeyDown = (ev: KeyboardEvent<SVGGElement>) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      onSelect(e.popCode);
    }
  };
  return (
    <g
      className={selected ? 'marker selected' : 'marker'}
      transform={`translate(${x.toFixed(1)},${y.toFixed(1)})`}
      data-pop={e.popCode}
      data-status={status}
      role="button"
      tabIndex={tabbable ? 0 : -1}
      aria-label={`${e.popCode} ${place}, ${e.tier}: ${STATUS_LABEL[status]}, mean ${formatMs(e.coldStartTime)}, p95 ${formatMs(e.p95)}, ${formatInt(e.samples)} samples`}
      aria-pressed={selected}
      onClick={() => onSelect(e.popCode)}
      onKeyDown={onKeyDown}
      onMouseEnter={() => onHover(e.popCode)}
      onMouseLeave={() => onHover(null)}
      onFocus={() => onHover(e.popCode)}
      onBlur={() => onHover(null)}
    >
      <circle className="hit" r={hitR} />
      {selected && <circle className="select-ring" r={r * 2.6} />}
      <StatusShape status={status} r={r} />
    </g>
  );
}, sameMarker);

/**
 * Each live refresh brings new entry objects; a marker whose numbers did not change skips
 * its re-render (with 1,000 POPs most of a refresh is then free).
 */
function sameMarker(a: Props, b: Props): boolean {
  const x = a.entry;
  const y = b.entry;
  return (
    a.x === b.x &&
    a.y === b.y &&
    a.r === b.r &&
    a.hitR === b.hitR &&
    a.selected === b.selected &&
    a.tabbable === b.tabbable &&
    a.onSelect === b.onSelect &&
    a.onHover === b.onHover &&
    x.popCode === y.popCode &&
    x.status === y.status &&
    x.coldStartTime === y.coldStartTime &&
    x.p95 === y.p95 &&
    x.samples === y.samples &&
    x.city === y.city &&
    x.country === y.country &&
    x.tier === y.tier
  );
}
