/**
 * What the dashboard shows, kept in the query string so a view can be shared and
 * survives reload: `?view=alerts&pop=FRA&range=1h&window=24h&function=ssr-render&tier=tier1&country=DE&status=critical`.
 * Parsing is forgiving (an unknown or malformed value falls back to its default) and
 * serialising leaves defaults out, so URLs stay short and stable.
 */
import type { AlertStatus, PopStatus } from '@edgeworker/schema';
import { isPopStatus } from './status.ts';
import { DEFAULT_RANGE_ID, isRangeId, isWindowId, LIVE_WINDOW } from './ranges.ts';
import { DEFAULT_SORT, parseSort, serialiseSort, type PopSort } from './popTable.ts';

export type View = 'map' | 'alerts';

export interface UrlState {
  view: View;
  /** The POP whose drill-down is open. */
  pop: string | null;
  /** Drill-down chart range id (15m, 1h, 6h, 24h, 7d). */
  range: string;
  /** Window of the map, cards, table and drill-down numbers (5m, 1h, 24h, 7d). */
  window: string;
  fn: string | null;
  tier: string | null;
  country: string | null;
  status: PopStatus | null;
  sort: PopSort;
  /** Tab of the alerts view. */
  alerts: AlertStatus;
}

export const DEFAULT_URL_STATE: UrlState = {
  view: 'map',
  pop: null,
  range: DEFAULT_RANGE_ID,
  window: LIVE_WINDOW,
  fn: null,
  tier: null,
  country: null,
  status: null,
  sort: DEFAULT_SORT,
  alerts: 'open',
};

const CODE = /^[A-Za-z0-9_-]{1,32}$/;
const NAME = /^[A-Za-z0-9_.:-]{1,64}$/;
const COUNTRY = /^[A-Za-z]{2,3}$/;

function pick(v: string | null, ok: RegExp): string | null {
  return v !== null && ok.test(v) ? v : null;
}

function isAlertStatus(v: string | null): v is AlertStatus {
  return v === 'open' || v === 'acknowledged' || v === 'resolved';
}

export function parseUrlState(search: string): UrlState {
  const q = new URLSearchParams(search);
  const range = q.get('range');
  const win = q.get('window');
  const status = q.get('status');
  const alerts = q.get('alerts');
  return {
    view: q.get('view') === 'alerts' ? 'alerts' : 'map',
    pop: pick(q.get('pop'), CODE)?.toUpperCase() ?? null,
    range: range !== null && isRangeId(range) ? range : DEFAULT_RANGE_ID,
    window: win !== null && isWindowId(win) ? win : LIVE_WINDOW,
    fn: pick(q.get('function'), NAME),
    tier: pick(q.get('tier'), NAME),
    country: pick(q.get('country'), COUNTRY)?.toUpperCase() ?? null,
    status: isPopStatus(status) ? status : null,
    sort: parseSort(q.get('sort')),
    alerts: isAlertStatus(alerts) ? alerts : 'open',
  };
}

/** `?…` (or '' for the default view), parameters in a fixed order, defaults left out. */
export function serialiseUrlState(s: UrlState): string {
  const q = new URLSearchParams();
  if (s.view !== 'map') q.set('view', s.view);
  if (s.pop) q.set('pop', s.pop);
  if (s.range !== DEFAULT_RANGE_ID) q.set('range', s.range);
  if (s.window !== LIVE_WINDOW) q.set('window', s.window);
  if (s.fn) q.set('function', s.fn);
  if (s.tier) q.set('tier', s.tier);
  if (s.country) q.set('country', s.country);
  if (s.status) q.set('status', s.status);
  const sort = serialiseSort(s.sort);
  if (sort !== serialiseSort(DEFAULT_SORT)) q.set('sort', sort);
  if (s.alerts !== 'open') q.set('alerts', s.alerts);
  const text = q.toString();
  return text ? `?${text}` : '';
}
