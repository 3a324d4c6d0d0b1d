import type { FunctionStats } from '@edgeworker/schema';
import { formatInt, formatMs } from '../lib/format';
import { StatusBadge } from './StatusBadge';

interface Props {
  functions: readonly FunctionStats[];
  /** The function filter, highlighted when set. */
  highlight: string | null;
}

export function FunctionStatsTable({ functions, highlight }: Props) {
  if (functions.length === 0) return <p className="empty">No function has samples at this POP in the window.</p>;
  const rows = [...functions].sort((a, b) => (b.coldStartTime ?? -1) - (a.coldStartTime ?? -1));
  return (
    <div className="table-scroll">
      <table className="data-table" data-testid="pop-functions">
        <thead>
          <tr>
            <th scope="col">Function</th>
            <th scope="col">Status</th>
            <th scope="col" className="num">Mean</th>
            <th scope="col" className="num col-p50">p50</th>
            <th scope="col" className="num">p95</th>
            <th scope="col" className="num col-p99">p99</th>
            {/* col-samples: hidden in a column under 440 px (a phone's drill-down), where it would scroll sideways */}
            <th scope="col" className="num col-samples">
              Samples
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((f) => (
            <tr key={f.functionName} className={f.functionName === highlight ? 'selected' : undefined}>
              <th scope="row" className="mono">
                {f.functionName}
              </th>
              <td>
                <StatusBadge status={f.status} />
              </td>
              <td className="num">{formatMs(f.coldStartTime)}</td>
              <td className="num col-p50">{formatMs(f.p50)}</td>
              <td className="num">{formatMs(f.p95)}</td>
              <td className="num col-p99">{formatMs(f.p99)}</td>
              <td className="num col-samples">{formatInt(f.samples)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
