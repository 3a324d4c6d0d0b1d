import { lazy, Suspense, useCallback, useMemo, useRef } from 'react';
import type { AlertStatus } from '@edgeworker/schema';
import { useFunctions } from './hooks/useFunctions';
import { useHeatmap } from './hooks/useHeatmap';
import { useLiveOverview } from './hooks/useLiveOverview';
import { useOverviewTrend } from './hooks/useOverviewTrend';
import { useTheme } from './hooks/useTheme';
import { useThrottled } from './hooks/useThrottled';
import { useUrlState } from './hooks/useUrlState';
import { useWindowOverview } from './hooks/useWindowOverview';
import { LIVE_WINDOW, windowLabel } from './lib/ranges';
import { facets, filterPops, type PopSort } from './lib/popTable';
import type { View } from './lib/urlState';
import { AlertsView } from './components/AlertsView';
import { Filters, type FilterValues } from './components/Filters';
import { Header } from './components/Header';
import { MapLegend } from './components/MapLegend';
import { chartPair, pairFor } from './lib/thresholds';
import { OverviewCards } from './components/OverviewCards';
import { PopTable } from './components/PopTable';
import { WindowSelector } from './components/WindowSelector';
import { WorldMap } from './components/WorldMap';

// The drill-down (and uPlot with it) loads on first use, keeping the first paint light.
const PopDrilldown = lazy(() => import('./components/PopDrilldown').then((m) => ({ default: m.PopDrilldown })));

export function App({ onSignOut, onSignIn }: { onSignOut?: () => void; onSignIn?: () => void } = {}) {
  const [url, setUrl] = useUrlState();
  const theme = useTheme();
  const live = useLiveOverview(LIVE_WINDOW);
  const trend = useOverviewTrend(live.overview, live.version);
  const win = url.window;
  const isLive = win === LIVE_WINDOW;
  // The socket's overview covers the live window; other windows come over REST.
  const windowed = useWindowOverview(win, live.version);
  const overview = isLive ? live.overview : windowed.dataKey === win ? windowed.data : null;
  // Long windows move slowly and cost the server more: refresh them at most every 10 s.
  const heatmapVersion = useThrottled(live.version, isLive ? 0 : 10_000);
  const heatmap = useHeatmap(win, url.fn, heatmapVersion);
  const functions = useFunctions(live.version);
  const all = useMemo(() => heatmap.data?.body ?? [], [heatmap.data]);
  const { tiers, countries } = useMemo(() => facets(all), [all]);
  const entries = useMemo(
    () => filterPops(all, { tier: url.tier, country: url.country, status: url.status }),
    [all, url.tier, url.country, url.status],
  );
  const thresholds = live.overview?.thresholds ?? null;
  // optional fields a degraded server adds (its store is behind or down)
  const degraded = live.overview as { stale?: unknown; staleAgeMs?: unknown } | null;
  const staleAgeMs = typeof degraded?.staleAgeMs === 'number' ? degraded.staleAgeMs : null;
  const stale = degraded?.stale === true || heatmap.data?.stale === true;
  const selected = url.pop;
  // the server went silent on its socket: what is on screen is frozen, and says so
  const liveStale = live.connection === 'stale';

  // give focus back to whatever opened the drill-down when it closes
  const opener = useRef<HTMLElement | SVGElement | null>(null);
  const select = useCallback(
    (code: string) => {
      const active = document.activeElement;
      if (active instanceof HTMLElement || active instanceof SVGElement) opener.current = active;
      setUrl({ pop: code }, 'push');
    },
    [setUrl],
  );
  const close = useCallback(() => {
    setUrl({ pop: null }, 'push');
    const el = opener.current;
    opener.current = null;
    if (el?.isConnected) el.focus();
  }, [setUrl]);
  const setView = useCallback((view: View) => setUrl({ view }, 'push'), [setUrl]);
  const setFilters = useCallback((patch: Partial<FilterValues>) => setUrl(patch), [setUrl]);
  const setSort = useCallback((sort: PopSort) => setUrl({ sort }), [setUrl]);
  const setWindow = useCallback((window: string) => setUrl({ window }), [setUrl]);
  const resolution = heatmap.data?.resolution;
  const setAlertTab = useCallback((alerts: AlertStatus) => setUrl({ alerts }), [setUrl]);
  const openPopFromAlert = useCallback((code: string) => setUrl({ pop: code, view: 'map' }, 'push'), [setUrl]);

  return (
    <div className={selected ? 'app has-drilldown' : 'app'}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header
        live={live}
        view={url.view}
        onView={setView}
        themePref={theme.pref}
        onThemePref={theme.setPref}
        stale={stale}
        staleAgeMs={staleAgeMs}
        onSignOut={onSignOut}
        onSignIn={onSignIn}
      />
      <main className={liveStale ? 'content data-stale' : 'content'} id="main">
        {liveStale && (
          <p className="live-stale" data-testid="live-stale">
            ⚠ The server has sent nothing since {live.silentSince === null ? 'a while' : new Date(live.silentSince).toLocaleTimeString()}: the
            numbers below are from then, not live. Reconnecting…
          </p>
        )}
        <div className="window-bar">
          <span className="window-bar-label">Window</span>
          <WindowSelector value={win} onChange={setWindow} />
        </div>
        {/* the sparklines follow the live stream, so they only sit beside live-window numbers */}
        <OverviewCards overview={overview} trend={isLive ? trend : []} />
        {url.view === 'alerts' ? (
          <AlertsView
            status={url.alerts}
            onStatus={setAlertTab}
            lastAlert={live.lastAlert}
            alertVersion={live.alertVersion}
            onOpenPop={openPopFromAlert}
          />
        ) : (
          <>
            <Filters
              values={{ fn: url.fn, tier: url.tier, country: url.country, status: url.status }}
              functions={functions.data ?? []}
              tiers={tiers}
              countries={countries}
              onChange={setFilters}
            />
            <div className="main-grid">
              <section className="panel map-panel" aria-labelledby="map-title">
                <div className="panel-head">
                  <h2 id="map-title">Cold start by POP</h2>
                  <span className="panel-sub">
                    mean over the last {windowLabel(win)} · {url.fn ?? 'all functions'}
                    {resolution && resolution !== 'raw' && (
                      <span data-testid="map-resolution" title="count and mean exact; p95 within 1 %">
                        {' '}
                        · from {resolution} rollups
                      </span>
                    )}
                  </span>
                </div>
                {heatmap.error && (
                  <p className="error" role="alert">
                    Map data could not be loaded: {heatmap.error}
                  </p>
                )}
                <div className="map-stage">
                  <WorldMap
                    entries={entries}
                    critMs={thresholds ? pairFor(thresholds, url.fn).critMs : null}
                    thresholds={thresholds}
                    fn={url.fn}
                    selected={selected}
                    onSelect={select}
                  />
                  {heatmap.data === null && !heatmap.error && (
                    <div className="map-overlay" data-testid="map-loading">
                      Loading the last {windowLabel(win)}…
                    </div>
                  )}
                </div>
                <MapLegend thresholds={thresholds} fn={url.fn} entries={entries} />
              </section>
              <PopTable
                entries={entries}
                total={all.length}
                loading={heatmap.data === null}
                sort={url.sort}
                onSort={setSort}
                selected={selected}
                onSelect={select}
              />
            </div>
          </>
        )}
      </main>
      {selected && (
        <Suspense fallback={<aside className="drilldown muted">Loading…</aside>}>
          <PopDrilldown
            key={selected}
            code={selected}
            fn={url.fn}
            onFn={(fn) => setUrl({ fn })}
            functions={functions.data ?? []}
            rangeId={url.range}
            onRange={(range) => setUrl({ range })}
            window={win}
            version={live.version}
            thresholds={thresholds ? chartPair(thresholds, url.fn) : null}
            theme={theme.theme}
            lastAlert={live.lastAlert}
            alertVersion={live.alertVersion}
            onClose={close}
          />
        </Suspense>
      )}
    </div>
  );
}
