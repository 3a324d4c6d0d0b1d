/** Display formatting shared by every component. All accept null/undefined/NaN and show a dash. */

const DASH = '–';

function isNum(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** `123 ms`, `1.2 s` for large values. */
export function formatMs(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return `${Math.round(v)} ms`;
  return `${v.toFixed(1)} ms`;
}

/** The number without unit, for cards that show the unit separately. */
export function formatMsValue(v: number | null | undefined): string {
  if (!isNum(v)) return DASH;
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1);
}

const intFmt = new Intl.NumberFormat('en-US');

export function formatInt(v: number | null | undefined): string {
  return isNum(v) ? intFmt.format(Math.round(v)) : DASH;
}

/** `just now`, `12 s ago`, `3 min ago`, `2 h ago`. */
export function formatAgo(thenMs: number | null, nowMs: number): string {
  if (thenMs === null) return 'never';
  const s = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (s < 2) return 'just now';
  if (s < 120) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min ago`;
  return `${Math.floor(m / 60)} h ago`;
}

/** Local wall-clock time of an RFC 3339 string, or a dash. */
export function formatClock(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? DASH : d.toLocaleTimeString();
}
