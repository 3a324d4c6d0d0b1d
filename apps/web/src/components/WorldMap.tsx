import { useCallback, useMemo, useRef, useState, type FocusEvent, type KeyboardEvent } from 'react';
import type { HeatmapEntry } from '@edgeworker/schema';
import { useElementWidth } from '../hooks/useElementWidth';
import { declutter, nearestDistances } from '../lib/declutter';
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

/**
 * Closest two markers' centres may come, in screen pixels. POPs nearer than this on the map (FRA
 * and CGN are 4 px apart at 1440 px) are moved apart (see declutter), each by at most MAX_SHIFT
 * of the map's width.
 */
const SPACING_PX = 8;
/**
 * How far a marker may move, as a share of the map's width: 18 px on the 880 px map of a 1440 px
 * window, where every crowd comes apart (Europe's needs 16 px at most); 7 px on a phone, where
 * pulling Europe apart would spread it over Africa and Asia: crowds there keep some overlap
 * (the table and the arrow keys reach those POPs).
 */
const MAX_SHIFT = 0.02;
/**
 * Radius of a marker's invisible hit area: HIT_PX, or half the way to its nearest neighbour when
 * that is closer (about SPACING_PX / 2 at the least). Hit areas then never overlap and the shapes take no
 * pointer events (CSS), so every POP owns a target of 8 to 14 px across that no neighbour drawn
 * later covers (a 7 px hit area at 8 px spacing left a crowded marker a sliver of 1 px).
 */
const HIT_PX = 7;
/** A marker moved further than this from its place gets a leader line back to it. */
const LEADER_PX = 3;

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

  // Where each marker is drawn: its place, or moved just clear of its neighbours. It depends on
  // the POPs' places and the map's width only, not on the live numbers (a marker's size follows
  // its mean, and a layout by size would move markers under the pointer at every update), so it
  // is computed again only when a POP comes or goes, or the map is resized.
  const placesKey = markers
    .map((m) => `${m.e.popCode}@${m.p[0]},${m.p[1]}`)
    .sort()
    .join(' ');
  // keyed by the places, not by `markers` (a new array at every live update)
  const anchors = useMemo(() => new Map(markers.map((m) => [m.e.popCode, m.p])), [placesKey]);
  const layout = useMemo(() => placeMarkers(anchors, width), [anchors, width]);
  const at = (code: string, p: [number, number]) => layout.get(code)?.at ?? p;

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
  const hoveredAt = hoveredMarker ? at(hoveredMarker.e.popCode, hoveredMarker.p) : null;
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
        <g className="leaders" aria-hidden="true">
          {markers.map(({ e, p }) => {
            const q = at(e.popCode, p);
            if (Math.hypot(q[0] - p[0], q[1] - p[1]) < LEADER_PX * unit) return null;
            return (
              <g key={e.popCode}>
                <line x1={p[0]} y1={p[1]} x2={q[0]} y2={q[1]} />
                <circle cx={p[0]} cy={p[1]} r={1.2 * unit} />
              </g>
            );
          })}
        </g>
        <g className="markers" onFocus={onMarkerFocus} onKeyDown={onMarkerKey}>
          {markers.map(({ e, p }) => {
            const r = markerPx(e.coldStartTime, critMs) * unit;
            const q = at(e.popCode, p);
            return (
              <PopMarker
                key={e.popCode}
                entry={e}
                x={q[0]}
                y={q[1]}
                r={r}
                hitR={(layout.get(e.popCode)?.hitPx ?? HIT_PX) * unit}
                selected={e.popCode === selected}
                tabbable={e.popCode === tabStop}
                onSelect={onSelect}
                onHover={onHover}
              />
            );
          })}
        </g>
      </svg>
      {hoveredMarker && hoveredAt && width > 0 && (
        <MapTooltip
          entry={hoveredMarker.e}
          x={(hoveredAt[0] - x) / unit}
          y={(hoveredAt[1] - y) / unit}
          stageWidth={width}
          thresholds={thresholds}
          fn={fn}
        />
      )}
    </div>
  );
}

/**
 * Map position (viewBox units) and hit radius (screen px) of each POP's marker on a map `width`
 * screen pixels wide: POPs closer than SPACING_PX are moved apart (declutter), the others stay on
 * their place. In POP code order, so the same POPs always get the same layout.
 */
function placeMarkers(anchors: ReadonlyMap<string, [number, number]>, width: number): Map<string, { at: [number, number]; hitPx: number }> {
  const codes = [...anchors.keys()].sort();
  if (width <= 0) return new Map(codes.map((c) => [c, { at: anchors.get(c)!, hitPx: HIT_PX }]));
  const unit = MAP_VIEWBOX.width / width;
  const px = codes.map((c) => {
    const [ax, ay] = anchors.get(c)!;
    return { x: (ax - MAP_VIEWBOX.x) / unit, y: (ay - MAP_VIEWBOX.y) / unit };
  });
  const { points } = declutter(px, {
    minDist: SPACING_PX,
    maxShift: MAX_SHIFT * width,
    bounds: { x0: 0, y0: 0, x1: MAP_VIEWBOX.width / unit, y1: MAP_VIEWBOX.height / unit },
  });
  const nearest = nearestDistances(points, 2 * HIT_PX);
  return new Map(
    codes.map((c, i) => [
      c,
      {
        at: [MAP_VIEWBOX.x + points[i]!.x * unit, MAP_VIEWBOX.y + points[i]!.y * unit],
        // half the way to the nearest (capped at 2 × HIT_PX): two hit areas never overlap
        hitPx: nearest[i]! / 2,
      },
    ]),
  );
}
