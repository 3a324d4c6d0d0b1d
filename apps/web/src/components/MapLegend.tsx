import type { HeatmapEntry, PopStatus } from '@edgeworker/schema';
import { STATUS_LABEL, safeStatus } from '../lib/status';
import { StatusShape } from './StatusShape';

interface Props {
  thresholds: { warnMs: number; critMs: number } | null;
  entries: readonly HeatmapEntry[];
}

const ITEMS: readonly PopStatus[] = ['healthy', 'warning', 'critical', 'no_data'];

function rangeText(s: PopStatus, t: Props['thresholds']): string {
  if (s === 'no_data') return 'no samples in window';
  if (!t) return '';
  if (s === 'healthy') return `< ${t.warnMs} ms`;
  if (s === 'warning') return `${t.warnMs}–${t.critMs} ms`;
  return `≥ ${t.critMs} ms`;
}

/** What each marker shape means, with the server's thresholds and how many POPs are in each. */
export function MapLegend({ thresholds, entries }: Props) {
  const counts = new Map<PopStatus, number>();
  for (const e of entries) {
    const s = safeStatus(e.status);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return (
    <ul className="legend" aria-label="Map legend">
      {ITEMS.map((s) => (
        <li key={s} data-legend={s}>
          <svg className="legend-shape" viewBox="-10 -10 20 20" aria-hidden="true">
            <StatusShape status={s} r={4} />
          </svg>
          <span className="legend-label">{STATUS_LABEL[s]}</span>
          <span className="legend-range">{rangeText(s, thresholds)}</span>
          <span className="legend-count">({counts.get(s) ?? 0})</span>
        </li>
      ))}
      <li className="legend-note">size grows with mean cold start</li>
    </ul>
  );
}
