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
  onSelect: (code: string) => void;
}

/** One POP on the map: a focusable button with a status shape and a native tooltip. */
export const PopMarker = memo(function PopMarker({ entry: e, x, y, r, hitR, selected, onSelect }: Props) {
  const status = safeStatus(e.status);
  const place = `${e.city}, ${e.country}`;
  const tooltip =
    `${e.popCode} · ${place} · ${e.tier}\n` +
    `${STATUS_LABEL[status]} · mean ${formatMs(e.coldStartTime)} · p95 ${formatMs(e.p95)} · ${formatInt(e.samples)} samples`;
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
      tabIndex={0}
      aria-label={`${e.popCode} ${place}: ${STATUS_LABEL[status]}, mean ${formatMs(e.coldStartTime)}`}
      aria-pressed={selected}
      onClick={() => onSelect(e.popCode)}
      onKeyDown={onKeyDown}
    >
      <title>{tooltip}</title>
      <circle className="hit" r={hitR} />
      {selected && <circle className="select-ring" r={r * 2.6} />}
      <StatusShape status={status} r={r} />
    </g>
  );
});
