import { lazy, Suspense, useCallback, useRef, useState } from 'react';
import { useFunctions } from './hooks/useFunctions';
import { useHeatmap } from './hooks/useHeatmap';
import { useLiveOverview } from './hooks/useLiveOverview';
import { LIVE_WINDOW } from './lib/ranges';
import { FunctionFilter } from './components/FunctionFilter';
import { Header } from './components/Header';
import { MapLegend } from './components/MapLegend';
import { OverviewCards } from './components/OverviewCards';
import { WorldMap } from './components/WorldMap';
import { WorstPopsTable } from './components/WorstPopsTable';

// The drill-down (and uPlot with it) loads on first use, keeping the first paint light.
const PopDrilldown = lazy(() => import('./components/PopDrilldown').then((m) => ({ default: m.PopDrilldown })));

export function App() {
  const live = useLiveOverview(LIVE_WINDOW);
  const [fn, setFn] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const heatmap = useHeatmap(LIVE_WINDOW, fn, live.version);
  const functions = useFunctions(live.version);
  const entries = heatmap.data ?? [];
  const thresholds = live.overview?.thresholds ?? null;

  // give focus back to whatever opened the drill-down when it closes
  const opener = useRef<HTMLElement | SVGElement | null>(null);
  const select = useCallback((code: string) => {
    const active = document.activeElement;
    if (active instanceof HTMLElement || active instanceof SVGElement) opener.current = active;
    setSelected(code);
  }, []);
  const close = useCallback(() => {
    setSelected(null);
    const el = opener.current;
    opener.current = null;
    if (el?.isConnected) el.focus();
  }, []);

  return (
    <div className={selected ? 'app has-drilldown' : 'app'}>
      <Header live={live} />
      <main className="content">
        <OverviewCards overview={live.overview} />
        <div className="main-grid">
          <section className="panel map-panel" aria-labelledby="map-title">
            <div className="panel-head">
              <h2 id="map-title">Cold start by POP</h2>
              <span className="panel-sub">mean over the last {LIVE_WINDOW}</span>
              <FunctionFilter functions={functions.data ?? []} value={fn} onChange={setFn} />
            </div>
            {heatmap.error && (
              <p className="error" role="alert">
                Map data could not be loaded: {heatmap.error}
              </p>
            )}
            <div className="map-stage">
              <WorldMap entries={entries} critMs={thresholds?.critMs ?? null} selected={selected} onSelect={select} />
              {heatmap.data === null && !heatmap.error && <div className="map-overlay">Loading POPs…</div>}
            </div>
            <MapLegend thresholds={thresholds} entries={entries} />
          </section>
          <WorstPopsTable entries={entries} selected={selected} onSelect={select} />
        </div>
      </main>
      {selected && (
        <Suspense fallback={<aside className="drilldown muted">Loading…</aside>}>
          <PopDrilldown
            key={selected}
            code={selected}
            fn={fn}
            version={live.version}
            thresholds={thresholds}
            onClose={close}
          />
        </Suspense>
      )}
    </div>
  );
}
