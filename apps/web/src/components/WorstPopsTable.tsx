import { useMemo } from 'react';
import type { HeatmapEntry } from '@edgeworker/schema';
import { formatInt, formatMs } from '../lib/format';
import { StatusBadge } from './StatusBadge';

interface Props {
  entries: readonly HeatmapEntry[];
  selected: string | null;
  onSelect: (code: string) => void;
  limit?: number;
}

/** The slowest POPs by mean cold start in the window; a row opens the drill-down. */
export function WorstPopsTable({ entries, selected, onSelect, limit = 15 }: Props) {
  const worst = useMemo(
    () =>
      entries
        .filter((e) => typeof e.coldStartTime === 'number')
        .sort((a, b) => (b.coldStartTime ?? 0) - (a.coldStartTime ?? 0))
        .slice(0, limit),
    [entries, limit],
  );
  return (
    <section className="panel worst" aria-labelledby="worst-title">
      <div className="panel-head">
        <h2 id="worst-title">Slowest {limit} POPs</h2>
        <span className="panel-sub">by mean cold start</span>
      </div>
      {worst.length === 0 ? (
        <p className="empty">No POP has samples in this window yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="data-table" data-testid="worst-pops">
            <thead>
              <tr>
                <th scope="col">POP</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Mean</th>
                <th scope="col" className="num">p95</th>
                <th scope="col" className="num col-samples">Samples</th>
              </tr>
            </thead>
            <tbody>
              {worst.map((e) => (
                <tr
                  key={e.popCode}
                  data-pop={e.popCode}
                  className={e.popCode === selected ? 'clickable selected' : 'clickable'}
                  onClick={() => onSelect(e.popCode)}
                >
                  <th scope="row" className="pop-cell">
                    <button
                      type="button"
                      className="link"
                      onClick={(ev) => {
                        ev.stopPropagation();
                        onSelect(e.popCode);
                      }}
                    >
                      {e.popCode}
                    </button>
                    <span className="pop-place" title={`${e.city}, ${e.country} · ${e.tier}`}>
                      {e.city}, {e.country}
                    </span>
                  </th>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className="num">{formatMs(e.coldStartTime)}</td>
                  <td className="num">{formatMs(e.p95)}</td>
                  <td className="num col-samples">{formatInt(e.samples)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
