import { formatAgo, formatClock } from '../lib/format';
import { useNow } from '../hooks/useNow';
import type { LiveOverview } from '../hooks/useLiveOverview';
import { ConnectionBadge } from './ConnectionBadge';

interface Props {
  live: LiveOverview;
}

/** Product name, connection state and data age. Re-renders itself every second for the ticking age. */
export function Header({ live }: Props) {
  const now = useNow(1_000);
  const stale = live.lastUpdateAt !== null && now - live.lastUpdateAt > 60_000;
  return (
    <header className="app-header">
      <div className="brand">
        <svg className="brand-mark" viewBox="0 0 32 32" aria-hidden="true">
          <circle cx="16" cy="16" r="14" />
          <path d="M6 16h20M16 3c4 4 4 22 0 26M16 3c-4 4-4 22 0 26" />
          <path className="bolt" d="M18 6l-5 11h5l-3 9 8-12h-5l3-8z" />
        </svg>
        <h1>EdgeWorker Monitor</h1>
      </div>
      <div className="header-status">
        <ConnectionBadge state={live.connection} nextRetryAt={live.nextRetryAt} now={now} error={live.error} />
        <span
          className={stale ? 'updated stale' : 'updated'}
          data-testid="updated-ago"
          title={`newest sample at ${formatClock(live.overview?.latestSampleAt)}`}
        >
          {live.lastUpdateAt === null ? 'waiting for data' : `updated ${formatAgo(live.lastUpdateAt, now)}`}
        </span>
      </div>
    </header>
  );
}
