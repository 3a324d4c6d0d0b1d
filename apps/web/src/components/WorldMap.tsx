import { useCallback, useMemo, useRef, useState, type FocusEvent, type KeyboardEvent } from 'react';
import type { HeatmapEntry } from '@edgeworker/schema';
import { useElementWidth } from '../hooks/useElementWidth';
import { STATUS_ORDER, safeStatus } from '../lib/status';
import { BASE_PATHS, MAP_VIEWBOX, project } from '../lib/worldGeometry';
import { MapTooltip } from './MapTooltip';
import type { ThresholdSet } from '../lib/thresholds';
import { PopMarker } from './PopMarker';

interface Props {
  entries: readonly HeatmapEntry[];
  critMs: number | null;
  thresholds: ThresholdSet | null;
  fn: string | null;
  selected: string | null;
  onSelect: (code: string) => void;
}

/** Marker radius in screen pixels: 3 px for fast POPs up to 6 px at 1.5 × the critical threshold. */
function markerPx(mean: number | null, critMs: number | null): number {
  if (mean === null || !Number.isFinite(mean)) return 3.5;
  const ref = critMs && critMs > 0 ? critMs : 1000;
  const k = Math.min(1, Math.max(0, mean / (ref * 1.5)));
  return 3 + 3 * k;
}

/**
 * The world (bundled topology, Natural Earth projection) with one marker per POP. Scales with
 * its container through the viewBox; markers are sized in screen pixels so they stay usable
 * on a phone. Hovering or focusing a marker shows its numbers in a tooltip.
 */
export function WorldMap({ entries, critMs, thresholds, fn, selected, onSelect }: Props) {
  const wrapRef = useRef<HTMLDivElement>(null);
  const width = useElementWidth(wrapRef);
  const [hovered, setHovered] = useState<string | null>(null);
  const onHover = useCallback((code: string | null) => setHovered(code), []);
  // map units per screen pixel
  const unit = width > 0 ? MAP_VIEWBOX.width / width : 1;

  const markers = useMemo(() => {
    const rank = (e: HeatmapEntry) => STATUS_ORDER.indexOf(safeStatus(e.status));
    return entries
      .map((e) => ({ e, p: project(e.lon, e.lat) }))
      .filter((m): m is { e: HeatmapEntry; p: [number, number] } => m.p !== null)
      .sort((a, b) => rank(a.e) - rank(b.e) || (a.e.coldStartTime ?? 0) - (b.e.coldStartTime ?? 0));
  }, [entries]);

  // Keyboard: the map is one tab stop (roving tabindex), arrow keys go from POP to POP west to
  // east. The drawing order above changes with every live update (status, then mean), so a tab
  // stop per marker in that order sent Tab back to POPs already visited and past others, and put
  // every POP between the filters and the table.
  const keyOrder = useMemo(
    () =>
      markers
        .map((m) => m.e)
        .sort((a, b) => a.lon - b.lon || b.lat - a.lat || a.popCode.localeCompare(b.popCode))
        .map((e) => e.popCode),
    [markers],
  );
  const [focusCode, setFocusCode] = useState<string | null>(null);
  const has = (code: string | null) => code !== null && markers.some((m) => m.e.popCode === code);
  const tabStop = has(focusCode) ? focusCode : has(selected) ? selected : (keyOrder[0] ?? null);
  const onMarkerFocus = useCallback((ev: FocusEvent<SVGGElement>) => {
    const code = (ev.target as Element).closest('[data-pop]')?.getAttribute('data-pop');
    if (code) setFocusCode(code);
  }, []);
  const onMarkerKey = (ev: KeyboardEvent<SVGGElement>) => {
    const code = (ev.target as Element).closest('[data-pop]')?.getAttribute('data-pop');
    const i = code ? keyOrder.indexOf(code) : -1;
    if (i < 0 || keyOrder.length === 0) return;
    const last = keyOrder.length - 1;
    const step: Record<string, number> = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: last };
    const j = step[ev.key];
    if (j === undefined) return;
    ev.preventDefault();
    const next = keyOrder[Math.min(last, Math.max(0, j))]!;
    setFocusCode(next);
    wrapRef.current?.querySelector<SVGGElement>(`[data-pop="${CSS.escape(next)}"]`)?.focus();
  };

  const hoveredMarker = hovered ? markers.find((m) => m.e.popCode === hovered) : undefined;
  const { x, y, width: w, height: h } = MAP_VIEWBOX;
  return (
    <div className="map-wrap" ref={wrapRef}>
      <svg
        className="world-map"
        viewBox={`${x} ${y} ${w} ${h}`}
        preserveAspectRatio="xMidYMid meet"
        role="group"
        aria-label={`World map of ${markers.length} POPs by cold-start status; arrow keys move between POPs`}
      >
        <path className="map-sphere" d={BASE_PATHS.sphere} />
        <path className="map-graticule" d={BASE_PATHS.graticule} />
        <path className="map-land" d={BASE_PATHS.land} />
        <path className="map-borders" d={BASE_PATHS.borders} />
        <g className="markers" onFocus={onMarkerFocus} onKeyDown={onMarkerKey}>
          {markers.map(({ e, p }) => {
            const r = markerPx(e.coldStartTime, critMs) * unit;
            return (
              <PopMarker
                key={e.popCode}
                entry={e}
                x={p[0]}
                y={p[1]}
                r={r}
                hitR={Math.max(r * 1.4, 7 * unit)}
                selected={e.popCode === selected}
                tabbable={e.popCode === tabStop}
                onSelect={onSelect}
                onHover={onHover}
              />
            );
          })}
        </g>
      </svg>
      {hoveredMarker && width > 0 && (
        <MapTooltip
          entry={hoveredMarker.e}
          x={(hoveredMarker.p[0] - x) / unit}
          y={(hoveredMarker.p[1] - y) / unit}
          stageWidth={width}
          thresholds={thresholds}
          fn={fn}
        />
      )}
    </div>
  );
}
