import { formatAgo, formatClock } from '../lib/format';
import type { ThemePref } from '../lib/theme';
import type { View } from '../lib/urlState';
import { useNow } from '../hooks/useNow';
import type { LiveOverview } from '../hooks/useLiveOverview';
import { ConnectionBadge } from './ConnectionBadge';
import { ThemeToggle } from './ThemeToggle';

interface Props {
  live: LiveOverview;
  view: View;
  onView: (v: View) => void;
  themePref: ThemePref;
  onThemePref: (p: ThemePref) => void;
  /** The server said some answer is stale (its store is behind or down). */
  stale: boolean;
  /** How old the stale answer is, when the server says. */
  staleAgeMs: number | null;
  /** Present when this browser holds a token: forget it and show the sign-in form. */
  onSignOut?: () => void;
  /** Present when reads are open but changes need a token this browser does not hold. */
  onSignIn?: () => void;
}

/** Product name, views, connection state, data age and theme. Re-renders itself every second for the ticking age. */
export function Header({ live, view, onView, themePref, onThemePref, stale, staleAgeMs, onSignOut, onSignIn }: Props) {
  const now = useNow(1_000);
  // a silent server's numbers are old however recently they came
  const old = live.connection === 'stale' || (live.lastUpdateAt !== null && now - live.lastUpdateAt > 60_000);
  const regressions = live.overview?.regressions ?? 0;
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
      <nav className="views" aria-label="Views">
        <a
          href="?"
          className={view === 'map' ? 'view-tab active' : 'view-tab'}
          aria-current={view === 'map' ? 'page' : undefined}
          data-view="map"
          onClick={(e) => {
            e.preventDefault();
            onView('map');
          }}
        >
          Map
        </a>
        <a
          href="?view=alerts"
          className={view === 'alerts' ? 'view-tab active' : 'view-tab'}
          aria-current={view === 'alerts' ? 'page' : undefined}
          data-view="alerts"
          onClick={(e) => {
            e.preventDefault();
            onView('alerts');
          }}
        >
          Alerts
          {regressions > 0 && (
            <span
              className="count-pill"
              aria-label={`${regressions} unresolved regression${regressions === 1 ? '' : 's'}`}
              title="Regression alerts open or acknowledged (no-data alerts are in the list, not in this count)"
            >
              {regressions}
            </span>
          )}
        </a>
      </nav>
      <div className="header-status">
        <ConnectionBadge
          state={live.connection}
          nextRetryAt={live.nextRetryAt}
          now={now}
          error={live.error}
          silentSince={live.silentSince}
        />
        {stale && (
          <span
            className="stale-badge"
            data-testid="stale-badge"
            title="The server answered from older data: its metrics store is behind or unreachable"
          >
            ⚠ stale data{staleAgeMs !== null && ` (${formatAgo(now - staleAgeMs, now)})`}
          </span>
        )}
        <span
          className={old ? 'updated stale' : 'updated'}
          data-testid="updated-ago"
          title={`newest sample at ${formatClock(live.overview?.latestSampleAt)}`}
        >
          {live.lastUpdateAt === null ? 'waiting for data' : `updated ${formatAgo(live.lastUpdateAt, now)}`}
        </span>
        <ThemeToggle pref={themePref} onChange={onThemePref} />
        {onSignOut && (
          <button type="button" className="link sign-out" onClick={onSignOut} data-testid="sign-out">
            Sign out
          </button>
        )}
        {onSignIn && (
          <button type="button" className="link sign-in" onClick={onSignIn} data-testid="sign-in">
            Sign in
          </button>
        )}
      </div>
    </header>
  );
}
