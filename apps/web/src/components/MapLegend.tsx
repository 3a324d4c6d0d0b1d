import type { HeatmapEntry, PopStatus } from '@edgeworker/schema';
import { STATUS_LABEL, safeStatus } from '../lib/status';
import { functionPairs, pairFor, pairText, type ThresholdSet } from '../lib/thresholds';
import { StatusShape } from './StatusShape';

interface Props {
  thresholds: ThresholdSet | null;
  /** The function filter: its own pair gives the ranges; without one a POP is the worst of its functions. */
  fn: string | null;
  entries: readonly HeatmapEntry[];
}

const ITEMS: readonly PopStatus[] = ['healthy', 'warning', 'critical', 'no_data'];

function rangeText(s: PopStatus, t: ThresholdSet | null, fn: string | null): string {
  if (s === 'no_data') return 'no recent samples';
  if (!t) return '';
  if (!fn) return s === 'healthy' ? 'every function below its warn' : s === 'warning' ? 'a function past its warn' : 'a function past its crit';
  const p = pairFor(t, fn);
  if (s === 'healthy') return `< ${p.warnMs} ms`;
  if (s === 'warning') return `${p.warnMs}–${p.critMs} ms`;
  return `≥ ${p.critMs} ms`;
}

/** What each marker shape means, with the server's thresholds (per function) and how many POPs are in each. */
export function MapLegend({ thresholds, fn, entries }: Props) {
  const counts = new Map<PopStatus, number>();
  for (const e of entries) {
    const s = safeStatus(e.status);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const pairs = thresholds ? functionPairs(thresholds) : [];
  return (
    <div className="legend-wrap">
      <ul className="legend" aria-label="Map legend">
        {ITEMS.map((s) => (
          <li key={s} data-legend={s}>
            <svg className="legend-shape" viewBox="-10 -10 20 20" aria-hidden="true">
              <StatusShape status={s} r={4} />
            </svg>
            <span className="legend-label">{STATUS_LABEL[s]}</span>
            <span className="legend-range">{rangeText(s, thresholds, fn)}</span>
            <span className="legend-count">({counts.get(s) ?? 0})</span>
          </li>
        ))}
        <li className="legend-note">size grows with mean cold start</li>
      </ul>
      {thresholds && !fn && pairs.length > 0 && (
        <p className="legend-thresholds" data-testid="legend-thresholds">
          <span className="muted">warn / crit on each function&apos;s mean:</span>{' '}
          {pairs.map(([name, p], i) => (
            <span key={name} className="legend-pair">
              {i > 0 && ' · '}
              <span className="mono">{name}</span> {pairText(p)}
            </span>
          ))}
        </p>
      )}
    </div>
  );
}
