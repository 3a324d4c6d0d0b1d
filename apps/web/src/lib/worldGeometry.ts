/**
 * The static base map, computed once from the bundled world-atlas topology (no network fetch):
 * Natural Earth projection, SVG path strings for land, borders and graticule, and the viewBox
 * cropped to where POPs can be (Antarctica and the far north left out).
 */
import { geoGraticule10, geoNaturalEarth1, geoPath, type GeoPermissibleObjects } from 'd3-geo';
import { feature, mesh } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import countriesJson from 'world-atlas/countries-110m.json';

type World = Topology<{ countries: GeometryCollection<{ name: string }>; land: GeometryCollection }>;

const world = countriesJson as unknown as World;

export const MAP_WIDTH = 960;
const NORTH = 84;
const SOUTH = -58;
const ANTARCTICA_ID = '010';

const sphere: GeoPermissibleObjects = { type: 'Sphere' };
const projection = geoNaturalEarth1().fitWidth(MAP_WIDTH, sphere);
const path = geoPath(projection);

const countries = feature(world, world.objects.countries);
const visibleCountries = {
  ...countries,
  features: countries.features.filter((f) => String(f.id) !== ANTARCTICA_ID),
};

const yNorth = projection([0, NORTH])?.[1] ?? 0;
const ySouth = projection([0, SOUTH])?.[1] ?? MAP_WIDTH / 2;

export const MAP_VIEWBOX = {
  x: 0,
  y: Math.floor(yNorth),
  width: MAP_WIDTH,
  height: Math.ceil(ySouth - yNorth),
};

export const BASE_PATHS = {
  sphere: path(sphere) ?? '',
  graticule: path(geoGraticule10()) ?? '',
  land: path(visibleCountries) ?? '',
  borders: path(mesh(world, world.objects.countries, (a, b) => a !== b)) ?? '',
};

/** Screen position of a longitude/latitude in map (viewBox) units, or null if it cannot be projected. */
export function project(lon: number, lat: number): [number, number] | null {
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  const p = projection([lon, lat]);
  return p && Number.isFinite(p[0]) && Number.isFinite(p[1]) ? [p[0], p[1]] : null;
}
