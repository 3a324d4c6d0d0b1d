import { useCallback, useEffect, useMemo, useRef, useState, type UIEvent } from 'react';
import type { HeatmapEntry } from '@edgeworker/schema';
import { formatInt, formatMs } from '../lib/format';
import { nextSort, sortPops, visibleRows, type PopSort, type SortKey } from '../lib/popTable';
import { StatusBadge } from './StatusBadge';

interface Props {
  /** Already filtered. */
  entries: readonly HeatmapEntry[];
  total: number;
  /** No answer for this window and function yet: neither a count nor "no match" is known. */
  loading?: boolean;
  sort: PopSort;
  onSort: (s: PopSort) => void;
  selected: string | null;
  onSelect: (code: string) => void;
}

/** Fixed row height (CSS `.pop-table tbody tr`), which is what makes windowing simple. */
const ROW_HEIGHT = 34;
const VIEWPORT_HEIGHT = 480;

const COLUMNS: readonly { key: SortKey; label: string; num?: boolean; className?: string }[] = [
  { key: 'pop', label: 'POP' },
  { key: 'status', label: 'Status' },
  { key: 'country', label: 'Country', className: 'col-country' },
  { key: 'tier', label: 'Tier', className: 'col-tier' },
  { key: 'mean', label: 'Mean', num: true },
  { key: 'p95', label: 'p95', num: true },
  { key: 'samples', label: 'Samples', num: true, className: 'col-samples' },
];

/**
 * Every POP matching the filters, sortable by any column (worst first by default).
 * Only the rows in view (plus a margin) are in the DOM, so 1,000 POPs scroll smoothly.
 */
export function PopTable({ entries, total, loading = false, sort, onSort, selected, onSelect }: Props) {
  const rows = useMemo(() => sortPops(entries, sort), [entries, sort]);
  const scrollRef = useRef<HTMLDivElement>(null);
  const [win, setWin] = useState(() => visibleRows(0, VIEWPORT_HEIGHT, ROW_HEIGHT, rows.length));

  const recompute = useCallback(() => {
    const el = scrollRef.current;
    const next = visibleRows(el?.scrollTop ?? 0, el?.clientHeight || VIEWPORT_HEIGHT, ROW_HEIGHT, rows.length);
    setWin((w) => (w.start === next.start && w.end === next.end ? w : next));
  }, [rows.length]);

  useEffect(recompute, [recompute]);
  const onScroll = (_e: UIEvent<HTMLDivElement>) => recompute();

  const shown = rows.slice(win.start, win.end);
  const padTop = win.start * ROW_HEIGHT;
  const padBottom = Math.max(0, (rows.length - win.end) * ROW_HEIGHT);

  return (
    <section className="panel pops" aria-labelledby="pops-title">
      <div className="panel-head">
        <h2 id="pops-title">POPs</h2>
        <span className="panel-sub" data-testid="pop-count">
          {loading
            ? 'loading…'
            : `${rows.length === total ? `${formatInt(total)} POPs` : `${formatInt(rows.length)} of ${formatInt(total)} POPs`} · worst first unless sorted`}
        </span>
      </div>
      {rows.length === 0 ? (
        <p className="empty">{loading ? 'Loading POPs…' : 'No POP matches these filters.'}</p>
      ) : (
        <div className="table-scroll pop-scroll" ref={scrollRef} onScroll={onScroll} style={{ maxHeight: VIEWPORT_HEIGHT }}>
          <table className="data-table pop-table" data-testid="pop-table" aria-rowcount={rows.length + 1}>
            <thead>
              <tr>
                {COLUMNS.map((c) => {
                  const active = sort.key === c.key;
                  return (
                    <th
                      key={c.key}
                      scope="col"
                      className={[c.num ? 'num' : '', c.className ?? ''].join(' ').trim() || undefined}
                      aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}
                    >
                      <button type="button" className="sort" data-sort={c.key} onClick={() => onSort(nextSort(sort, c.key))}>
                        {c.label}
                        <span aria-hidden="true" className="sort-mark">
                          {active ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                        </span>
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {padTop > 0 && (
                <tr className="spacer" aria-hidden="true" style={{ height: padTop }}>
                  <td colSpan={COLUMNS.length} />
                </tr>
              )}
              {shown.map((e, i) => (
                <tr
                  key={e.popCode}
                  data-pop-row={e.popCode}
                  aria-rowindex={win.start + i + 2}
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
                      {e.city}
                    </span>
                  </th>
                  <td>
                    <StatusBadge status={e.status} />
                  </td>
                  <td className="col-country">{e.country}</td>
                  <td className="col-tier">{e.tier}</td>
                  <td className="num">{formatMs(e.coldStartTime)}</td>
                  <td className="num">{formatMs(e.p95)}</td>
                  <td className="num col-samples">{formatInt(e.samples)}</td>
                </tr>
              ))}
              {padBottom > 0 && (
                <tr className="spacer" aria-hidden="true" style={{ height: padBottom }}>
                  <td colSpan={COLUMNS.length} />
                </tr>
              )}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
